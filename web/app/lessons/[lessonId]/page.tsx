import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { LessonPlayer } from '../../../components/player/LessonPlayer';
import { StepMarkdown, withoutTitle } from '../../../components/player/stepMarkdown';
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
  // Rendered here, on the server: the Markdown parser stays off the page's JavaScript.
  const stepTexts = lesson.steps.map((s) => (
    <StepMarkdown key={s.id} markdown={withoutTitle(s.body[locale])} locale={locale} />
  ));
  return (
    <LessonPlayer
      lesson={lesson}
      stepTexts={stepTexts}
      locale={locale}
      initialStepId={typeof step === 'string' ? step : undefined}
    />
  );
}
