'use client';
// The learner's way through a lesson: which step is open (in the address bar too), each step's status and
// check results (from the server's progress, then live from `checks:result`), and the hints, solutions
// and skips they asked for.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Localized } from '@dockside/lessons';
import { api } from '../../lib/api';
import {
  isStepDone,
  type CheckResultView,
  type DocksideSocket,
  type ServerToClientEvents,
  type StepStatus,
} from '../../lib/socket';
import type { PlayerLesson } from './types';

const indexOf = (lesson: PlayerLesson, stepId: string | undefined) =>
  Math.max(
    0,
    lesson.steps.findIndex((s) => s.id === stepId),
  );

export function useStepProgress({
  lesson,
  initialStepId,
  socket,
  sandboxId,
  online,
}: {
  lesson: PlayerLesson;
  initialStepId?: string;
  socket: DocksideSocket | null;
  sandboxId: string | null;
  online: boolean;
}) {
  const [stepIndex, setStepIndex] = useState(() => indexOf(lesson, initialStepId));
  // The step the server remembers is taken once, on arrival; after that the learner's own choice stands
  // (a language switch refreshes the page's props and must not move them back).
  const settled = useRef(Boolean(initialStepId));
  const [statuses, setStatuses] = useState<Record<string, StepStatus>>({});
  const [results, setResults] = useState<Record<string, CheckResultView[]>>({});
  // Results per step since it was opened: the first comes from opening it, before the learner tried
  // anything, and shows what is not done yet as pending rather than a red "not yet".
  const [resultsSinceOpen, setResultsSinceOpen] = useState<Record<string, number>>({});
  const [hints, setHints] = useState<Record<string, Localized[]>>({});
  const [solutions, setSolutions] = useState<Record<string, Localized>>({});
  const step = lesson.steps[stepIndex]!;

  useEffect(() => {
    if (!socket) return;
    const onResult: ServerToClientEvents['checks:result'] = (r) => {
      if (r.lessonId !== lesson.id) return;
      setResults((all) => ({ ...all, [r.stepId]: r.results }));
      setResultsSinceOpen((all) => ({ ...all, [r.stepId]: (all[r.stepId] ?? 0) + 1 }));
      setStatuses((all) => ({ ...all, [r.stepId]: r.stepStatus }));
    };
    socket.on('checks:result', onResult);
    return () => void socket.off('checks:result', onResult);
  }, [socket, lesson.id]);

  // Progress so far, kept on the server.
  useEffect(() => {
    let current = true;
    void api<{ steps: Record<string, { status: StepStatus }>; currentStepId: string }>(
      'GET',
      `/api/progress/${lesson.id}`,
    )
      .then((p) => {
        if (!current) return;
        setStatuses((s) => ({ ...Object.fromEntries(Object.entries(p.steps).map(([k, v]) => [k, v.status])), ...s }));
        if (settled.current) return;
        settled.current = true;
        setStepIndex(indexOf(lesson, p.currentStepId));
      })
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [lesson, initialStepId]);

  // The step in the address bar (a reload comes back to it) and its checks running on the server.
  useEffect(() => {
    setResultsSinceOpen((all) => ({ ...all, [step.id]: 0 }));
  }, [step.id]);
  useEffect(() => {
    const url = new URL(window.location.href);
    url.searchParams.set('step', step.id);
    // Without Next's own state, so its router takes the URL over: a refresh (the language switch) keeps it.
    window.history.replaceState(null, '', url);
  }, [step.id]);
  useEffect(() => {
    if (socket && sandboxId && online) socket.emit('lesson:focus', { lessonId: lesson.id, stepId: step.id });
  }, [socket, sandboxId, online, lesson.id, step.id]);

  const goTo = useCallback(
    (index: number) => {
      settled.current = true;
      setStepIndex(Math.min(lesson.steps.length - 1, Math.max(0, index)));
    },
    [lesson.steps.length],
  );

  const showHint = async () => {
    const have = hints[step.id]?.length ?? 0;
    const r = await api<{ hint: Localized }>('POST', `/api/progress/${lesson.id}/${step.id}/hint`, { index: have });
    setHints((h) => ({ ...h, [step.id]: [...(h[step.id] ?? []), r.hint] }));
  };
  const showSolution = async () => {
    const r = await api<{ solution: Localized; status: StepStatus }>(
      'POST',
      `/api/progress/${lesson.id}/${step.id}/solution`,
    );
    setSolutions((s) => ({ ...s, [step.id]: r.solution }));
    setStatuses((s) => ({ ...s, [step.id]: r.status }));
  };
  /** Marks the step skipped; the caller moves on once it is. */
  const skip = async () => {
    const r = await api<{ status: StepStatus }>('POST', `/api/progress/${lesson.id}/${step.id}/skip`);
    setStatuses((s) => ({ ...s, [step.id]: r.status }));
  };

  const stepResults =
    (resultsSinceOpen[step.id] ?? 0) > 1
      ? results[step.id]
      : results[step.id]?.map((r) => (r.status === 'failed' ? { id: r.id, status: 'pending' as const } : r));

  return {
    step,
    stepIndex,
    isLast: stepIndex === lesson.steps.length - 1,
    statuses,
    stepStatus: statuses[step.id] ?? ('pending' as StepStatus),
    doneCount: lesson.steps.filter((s) => isStepDone(statuses[s.id])).length,
    /** The open step's results, a failure before the learner tried anything shown as pending. */
    stepResults,
    hints: hints[step.id] ?? [],
    solution: solutions[step.id],
    goTo,
    showHint,
    showSolution,
    skip,
  };
}
