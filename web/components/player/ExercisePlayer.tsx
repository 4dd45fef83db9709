'use client';
// An exercise's page: the goal and its checks on the left, the learner's workspace on the right. No ▶ Run:
// the goal's commands are the learner's to find. While the starting state is prepared a progress bar
// says so; hints come one at a time, the solution on request, and a time budget counts down (running
// out only says so). Its parts: `useSandbox` the socket and sandbox, `useExercise` the exercise,
// `useCountdown` the budget, `WorkspacePanel` the tabs.
import Link from 'next/link';
import { useMemo, useRef } from 'react';
import type { Locale } from '@dockside/lessons';
import { t } from '../../lib/i18n';
import { isStepDone } from '../../lib/socket';
import { LanguageSwitch } from '../../app/LanguageSwitch';
import { CheckList } from './CheckList';
import { ExerciseLinks } from './ExerciseLinks';
import { exerciseMessages } from './exerciseMessages';
import { SandboxStatus } from './SandboxStatus';
import { SplitPane } from './SplitPane';
import { StepView } from './StepView';
import { withoutTitle } from './stepMarkdown';
import type { PlayerExercise } from './types';
import { clock, useCountdown } from './useCountdown';
import { useExercise } from './useExercise';
import { useSandbox } from './useSandbox';
import { forgetTerminals } from './terminalStore';
import { useToasts } from './useToasts';
import { WorkspacePanel } from './WorkspacePanel';

export function ExercisePlayer({
  lesson,
  exercise,
  locale,
}: {
  lesson: { id: string; title: PlayerExercise['title']; exercises: { id: string; title: PlayerExercise['title'] }[] };
  exercise: PlayerExercise;
  locale: Locale;
}) {
  const m = t(locale);
  const x = exerciseMessages(locale);
  const sandbox = useSandbox(lesson.id, m);
  const { socket, ui, online, sandboxId } = sandbox;
  const ex = useExercise({ lessonId: lesson.id, exercise, socket, sandboxId, online });
  const left = useCountdown(ex.startedAt, exercise.minutes);
  const { toasts, dismiss } = useToasts(socket);
  const heading = useRef<HTMLHeadingElement>(null);
  const done = isStepDone(ex.status);
  const idleWarning = useMemo(
    () =>
      sandbox.idleWarningAt &&
      new Date(sandbox.idleWarningAt).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' }),
    [sandbox.idleWarningAt, locale],
  );

  const resetSandbox = () => {
    const old = sandboxId;
    void sandbox.reset().then((replaced) => {
      if (replaced && old) forgetTerminals(old);
    });
  };
  const startOver = () => {
    if (window.confirm(x.resetConfirm)) ex.startOver();
  };

  const phase = ex.phase;
  const pane = (
    <div className="lesson-pane">
      <div className="lesson-progress">
        <span>{x.exercise}</span>
        {exercise.minutes !== undefined &&
          (left === null ? (
            <span className="muted small">{x.budget(exercise.minutes)}</span>
          ) : left > 0 ? (
            <span className="exercise-clock" role="timer" aria-live="off">
              {x.timeLeft(clock(left))}
            </span>
          ) : null)}
        <Link className="small" href={`/lessons/${lesson.id}`}>
          {x.backToLesson}
        </Link>
      </div>
      {left === 0 && (
        <p className="banner banner-warn" role="status">
          {x.timeUp}
        </p>
      )}
      <article
        className="step exercise"
        aria-labelledby="exercise-title"
        data-exercise-id={exercise.id}
        data-status={ex.status}
        data-phase={phase.kind}
      >
        <h2 id="exercise-title" ref={heading} tabIndex={-1}>
          {exercise.title[locale]}
          {done && <span className="step-badge"> ✓ {m.status[ex.status]}</span>}
        </h2>
        {(phase.kind === 'waiting' || phase.kind === 'preparing') && (
          <div className="banner" role="status">
            <p>{phase.kind === 'preparing' && phase.message ? phase.message[locale] : x.preparing}</p>
            <progress max={100} value={phase.kind === 'preparing' ? phase.percent : 0} aria-label={x.preparing} />
          </div>
        )}
        {phase.kind === 'failed' && (
          <div className="banner banner-error" role="alert">
            <p>{x.prepareFailed(phase.message)}</p>
            <button type="button" className="primary" onClick={ex.retry}>
              {x.tryAgain}
            </button>
          </div>
        )}
        {/* No onRun: an exercise's code blocks can be copied, never run for the learner. */}
        <StepView markdown={withoutTitle(exercise.body[locale])} locale={locale} />
        {phase.kind === 'ready' && <CheckList checks={exercise.checks} results={ex.results} locale={locale} m={m} />}
        {ex.status === 'passed' && (
          <p className="step-done" role="status">
            {x.done}
          </p>
        )}
        <div className="step-help">
          {ex.hints.map((h, i) => (
            <aside key={i} className="callout callout-tip" role="note" aria-label={x.hintOf(i + 1, exercise.hintCount)}>
              <StepView markdown={h[locale]} locale={locale} />
            </aside>
          ))}
          {exercise.hintCount > ex.hints.length && (
            <button type="button" className="small-button" onClick={() => void ex.showHint()}>
              {m.hint}
            </button>
          )}
          {!ex.solution && (
            <button type="button" className="small-button" onClick={() => void ex.showSolution()}>
              {m.solution}
            </button>
          )}
          {phase.kind === 'ready' && (
            <button type="button" className="small-button" onClick={startOver}>
              {x.resetExercise}
            </button>
          )}
          {ex.solution && <StepView markdown={ex.solution[locale]} locale={locale} />}
        </div>
      </article>
      <ExerciseLinks lessonId={lesson.id} exercises={lesson.exercises} statuses={ex.statuses} locale={locale} />
    </div>
  );

  return (
    <div className="player" onKeyDown={sandbox.markActive}>
      <header className="player-header">
        {/* Not prefetched: the server would render the home page while this page's socket waits for it. */}
        <Link href="/" prefetch={false} className="brand" aria-label={`Dockside — ${m.home}`}>
          Dockside
        </Link>
        <h1 className="lesson-title">{lesson.title[locale]}</h1>
        <SandboxStatus ui={ui} idleWarning={idleWarning} m={m} onReset={resetSandbox} />
        <LanguageSwitch current={locale} label={m.language} />
      </header>
      <SplitPane
        left={pane}
        right={<WorkspacePanel sandbox={sandbox} m={m} locale={locale} onLeave={() => heading.current?.focus()} />}
        label={m.resize}
      />
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} className="toast">
            {toast.from && <strong>{m.toastFrom(toast.from)}: </strong>}
            <span>{toast.message}</span>
            <button type="button" className="small-button" onClick={() => dismiss(toast.id)}>
              {m.dismiss}
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}
