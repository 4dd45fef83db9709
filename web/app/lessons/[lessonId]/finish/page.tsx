import { notFound } from 'next/navigation';
import { FinishSummary } from '../../../../components/player/FinishSummary';
import { playerLesson } from '../../../../lib/catalog';
import { requestLocale } from '../../../../lib/request-locale';

export const dynamic = 'force-dynamic';

export default async function FinishPage({ params }: { params: Promise<{ lessonId: string }> }) {
  const [{ lessonId }, locale] = await Promise.all([params, requestLocale()]);
  const lesson = playerLesson(lessonId);
  if (!lesson) notFound();
  return <FinishSummary lesson={lesson} locale={locale} />;
}
