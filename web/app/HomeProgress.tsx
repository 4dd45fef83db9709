'use client';
// This learner's progress on the home page: a bar per lesson card and a "continue" entry.
import Link from 'next/link';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { Locale, Localized } from '@dockside/lessons';
import { api } from '../lib/api';
import { t } from '../lib/i18n';

type Summary = {
  lessons: { lessonId: string; done: number; total: number; nextStepId: string | null }[];
  resume: { lessonId: string; stepId: string } | null;
};

const ProgressContext = createContext<Summary | null>(null);
const useProgress = () => useContext(ProgressContext);

/** Fetches the learner's progress once for everything on the page below it. */
export function ProgressProvider({ children }: { children: ReactNode }) {
  const [summary, setSummary] = useState<Summary | null>(null);
  useEffect(() => {
    void api<Summary>('GET', '/api/progress')
      .then(setSummary)
      .catch(() => undefined);
  }, []);
  return <ProgressContext.Provider value={summary}>{children}</ProgressContext.Provider>;
}

export function LessonCardProgress({ lessonId, total, locale }: { lessonId: string; total: number; locale: Locale }) {
  const m = t(locale);
  const summary = useProgress();
  const mine = summary?.lessons.find((l) => l.lessonId === lessonId);
  const done = mine?.done ?? 0;
  return (
    <div className="card-progress">
      <progress max={total} value={done} aria-label={m.lessonProgress} />
      <span className="small muted">
        {!summary ? ' ' : done === 0 ? m.notStarted : done === total ? m.completed : m.progress(done, total)}
      </span>
    </div>
  );
}

export function ContinueEntry({
  lessons,
  locale,
}: {
  lessons: { id: string; title: Localized; steps: { id: string; title: Localized }[] }[];
  locale: Locale;
}) {
  const m = t(locale);
  const summary = useProgress();
  const resume = summary?.resume;
  const lesson = resume && lessons.find((l) => l.id === resume.lessonId);
  const step = lesson?.steps.find((s) => s.id === resume?.stepId);
  if (!lesson || !step) return null;
  return (
    <section className="continue" aria-labelledby="continue-heading">
      <h2 id="continue-heading">{m.continueTitle}</h2>
      <Link className="button primary" href={`/lessons/${lesson.id}?step=${step.id}`}>
        {m.continueAction(lesson.title[locale], step.title[locale])} →
      </Link>
    </section>
  );
}
