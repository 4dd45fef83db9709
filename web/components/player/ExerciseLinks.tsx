'use client';
// A lesson's exercises as links to their pages, each marked done when the learner reached its goal.
import Link from 'next/link';
import type { Locale, Localized } from '@dockside/lessons';
import { exercisePath, exerciseStepId, isStepDone } from '@dockside/protocol';
import { exerciseMessages } from './exerciseMessages';

export function ExerciseLinks({
  lessonId,
  exercises,
  statuses,
  locale,
}: {
  lessonId: string;
  exercises: { id: string; title: Localized }[];
  /** Progress by step id (an exercise's is `exercise:<id>`). */
  statuses: Record<string, string | undefined>;
  locale: Locale;
}) {
  if (exercises.length === 0) return null;
  const x = exerciseMessages(locale);
  return (
    <nav className="exercise-list" aria-label={x.exercises}>
      <h3>{x.exercises}</h3>
      <ul>
        {exercises.map((e) => (
          <li key={e.id} data-status={statuses[exerciseStepId(e.id)] ?? 'pending'}>
            <span className="step-mark" aria-hidden="true">
              {isStepDone(statuses[exerciseStepId(e.id)]) ? '✓' : '○'}
            </span>{' '}
            <Link href={exercisePath(lessonId, e.id)}>{e.title[locale]}</Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
