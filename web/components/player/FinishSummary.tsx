'use client';
// The end of a lesson: each step's outcome and the time it took, from the progress the server kept.
import Link from 'next/link';
import { useEffect, useState } from 'react';
import type { Locale } from '@dockside/lessons';
import { api } from '../../lib/api';
import { t } from '../../lib/i18n';
import { isStepDone, type StepStatus } from '../../lib/socket';
import { ExerciseLinks } from './ExerciseLinks';
import type { PlayerLesson } from './types';

type Progress = Record<string, { status: StepStatus; startedAt: string; completedAt: string | null }>;

const duration = (from: string, to: string | null) => {
  if (!to) return '—';
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};

export function FinishSummary({ lesson, locale }: { lesson: PlayerLesson; locale: Locale }) {
  const m = t(locale);
  const [steps, setSteps] = useState<Progress | null>(null);
  useEffect(() => {
    void api<{ steps: Progress }>('GET', `/api/progress/${lesson.id}`).then((p) => setSteps(p.steps));
  }, [lesson.id]);
  const passed = steps ? lesson.steps.filter((s) => isStepDone(steps[s.id]?.status)).length : 0;
  return (
    <main className="home finish">
      <h1>
        {m.finishTitle}: {lesson.title[locale]}
      </h1>
      {steps === null ? (
        <p role="status">{m.loading}</p>
      ) : (
        <>
          <p className="finish-summary">{m.finishSummary(passed, lesson.steps.length)}</p>
          <table className="finish-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{m.stepList}</th>
                <th scope="col">{m.checks}</th>
                <th scope="col">⏱</th>
              </tr>
            </thead>
            <tbody>
              {lesson.steps.map((s, i) => {
                const p = steps[s.id];
                const st = p?.status ?? 'pending';
                return (
                  <tr key={s.id} data-status={st}>
                    <td>{i + 1}</td>
                    <td>{s.title[locale]}</td>
                    <td>{m.status[st]}</td>
                    <td>{p ? duration(p.startedAt, p.completedAt) : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <ExerciseLinks
            lessonId={lesson.id}
            exercises={lesson.exercises}
            statuses={Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, v.status]))}
            locale={locale}
          />
        </>
      )}
      <p className="finish-actions">
        <Link className="button primary" href="/">
          {m.backToLessons}
        </Link>{' '}
        <Link className="button" href={`/lessons/${lesson.id}?step=${lesson.steps[0]!.id}`}>
          {m.review}
        </Link>
      </p>
    </main>
  );
}
