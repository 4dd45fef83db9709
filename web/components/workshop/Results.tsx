'use client';
// A workshop's results, during the class and after it ends: per learner and step, how long it took
// (or what became of it), with totals; the same as the CSV export.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import type { Locale } from '@dockside/lessons';
import { columnLabels, median, type WorkshopResults } from '@dockside/protocol';
import { api, ApiError } from '../../lib/api';
import { duration, workshopMessages } from './messages';
import styles from './workshop.module.css';

export function Results({ workshopId, locale }: { workshopId: string; locale: Locale }) {
  const m = workshopMessages(locale);
  const router = useRouter();
  const [results, setResults] = useState<WorkshopResults | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<WorkshopResults>('GET', `/api/workshops/${workshopId}/results`).then(setResults, (err: unknown) => {
      if (err instanceof ApiError && err.status === 401) router.replace('/instructor');
      else setError((err as Error).message);
    });
  }, [workshopId, router]);

  if (!results)
    return (
      <main className="home">{error ? <p role="alert">{m.error(error)}</p> : <p role="status">{m.loading}</p>}</main>
    );
  const steps = results.lessons.flatMap((l) => l.steps.map((s) => ({ lessonId: l.id, ...s })));
  const labels = columnLabels(steps.map((s) => s.id));
  const many = results.lessons.length > 1;

  return (
    <main className={styles.dashboard}>
      <Link href={`/instructor/workshops/${workshopId}`}>← {m.backToDashboard}</Link>
      <h1>{m.resultsOf(results.workshop.title)}</h1>
      <p className="meta">
        {m.state[results.workshop.state]} · {m.learnersCount(results.learners.length, results.workshop.seatLimit)}
      </p>
      <p>
        <a className="button" href={`/api/workshops/${workshopId}/results.csv`} download>
          {m.results}
        </a>
      </p>
      {results.learners.length === 0 ? (
        <p>{m.nobodyJoined}</p>
      ) : (
        // Focusable, so a keyboard can scroll a wide table.
        <div className={styles.gridWrap} tabIndex={0} role="region" aria-label={m.resultsCaption}>
          <table className={styles.resultsTable} data-testid="results">
            <caption className="visually-hidden">{m.resultsCaption}</caption>
            <thead>
              <tr>
                <th scope="col">{m.learner}</th>
                {steps.map((s, i) => (
                  <th key={`${s.lessonId}/${s.id}`} scope="col">
                    <abbr title={`${many ? `${s.lessonId}: ` : ''}${s.title[locale]}`}>{labels[i]}</abbr>
                  </th>
                ))}
                <th scope="col">{m.stepsDone}</th>
                <th scope="col">{m.totalTime}</th>
              </tr>
            </thead>
            <tbody>
              {results.learners.map((l) => (
                <tr key={l.learnerId} data-learner={l.displayName}>
                  <th scope="row">{l.displayName}</th>
                  {l.steps.map((s) => (
                    <td key={`${s.lessonId}/${s.stepId}`} data-step={s.stepId} data-status={s.status}>
                      {s.seconds !== null ? duration(locale, s.seconds) : ''}
                      {s.status === 'skipped' || s.status === 'solved' ? (
                        <span className={styles.statusNote}> {m.status[s.status]}</span>
                      ) : s.seconds === null ? (
                        <>
                          <span aria-hidden="true">–</span>
                          <span className="visually-hidden">{m.status.pending}</span>
                        </>
                      ) : null}
                    </td>
                  ))}
                  <td>
                    {l.done} / {steps.length}
                  </td>
                  <td>{duration(locale, l.seconds)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">{m.median}</th>
                {steps.map((s, i) => {
                  const mid = median(
                    results.learners.flatMap((l) => {
                      const t = l.steps[i]?.seconds;
                      return t == null ? [] : [t];
                    }),
                  );
                  return (
                    <td key={`${s.lessonId}/${s.id}`} data-step={s.id}>
                      {mid === undefined ? '' : duration(locale, mid)}
                    </td>
                  );
                })}
                <td />
                <td />
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </main>
  );
}
