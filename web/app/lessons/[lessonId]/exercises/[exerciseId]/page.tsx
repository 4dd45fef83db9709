import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { ExercisePlayer } from '../../../../../components/player/ExercisePlayer';
import { playerExercise } from '../../../../../lib/catalog';
import { requestLocale } from '../../../../../lib/request-locale';

// Lessons are read from disk on each request: authors see their changes without a rebuild.
export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ lessonId: string; exerciseId: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const [{ lessonId, exerciseId }, locale] = await Promise.all([params, requestLocale()]);
  const found = playerExercise(lessonId, exerciseId);
  return { title: found ? `${found.exercise.title[locale]} — Dockside` : 'Dockside' };
}

export default async function ExercisePage({ params }: Props) {
  const [{ lessonId, exerciseId }, locale] = await Promise.all([params, requestLocale()]);
  const found = playerExercise(lessonId, exerciseId);
  if (!found) notFound();
  return <ExercisePlayer lesson={found.lesson} exercise={found.exercise} locale={locale} />;
}
