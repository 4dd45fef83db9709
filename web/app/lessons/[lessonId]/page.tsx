import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { LessonPlayer } from '../../../components/player/LessonPlayer';
import { playerLesson } from '../../../lib/catalog';
import { requestLocale } from '../../../lib/request-locale';

// Lessons are read from disk on each request: authors see their changes without a rebuild.
export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ lessonId: string }>; searchParams: Promise<{ step?: string | string[] }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const [{ lessonId }, locale] = await Promise.all([params, requestLocale()]);
  const lesson = playerLesson(lessonId);
  return { title: lesson ? `${lesson.title[locale]} — Dockside` : 'Dockside' };
}

export default async function LessonPage({ params, searchParams }: Props) {
  const [{ lessonId }, { step }, locale] = await Promise.all([params, searchParams, requestLocale()]);
  const lesson = playerLesson(lessonId);
  if (!lesson) notFound();
  return <LessonPlayer lesson={lesson} locale={locale} initialStepId={typeof step === 'string' ? step : undefined} />;
}
