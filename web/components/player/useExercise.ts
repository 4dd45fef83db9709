'use client';
// One exercise on the page: its starting state prepared in the learner's sandbox (again for a new
// sandbox, or when they start over), its checks focused once it is ready and their results live, its
// status and start time from the server's progress, and the hints and solution they asked for.
import { useCallback, useEffect, useReducer, useState } from 'react';
import type { Localized } from '@dockside/lessons';
import { exerciseStepId } from '@dockside/protocol';
import { api } from '../../lib/api';
import type { CheckResultView, DocksideSocket, ServerToClientEvents, StepStatus } from '../../lib/socket';
import { exerciseReducer, initialExerciseState } from './exerciseState';
import type { PlayerExercise } from './types';

export function useExercise({
  lessonId,
  exercise,
  socket,
  sandboxId,
  online,
}: {
  lessonId: string;
  exercise: PlayerExercise;
  socket: DocksideSocket | null;
  sandboxId: string | null;
  online: boolean;
}) {
  const stepId = exerciseStepId(exercise.id);
  const [state, dispatch] = useReducer(exerciseReducer, initialExerciseState);
  const [status, setStatus] = useState<StepStatus>('pending');
  const [startedAt, setStartedAt] = useState<number | null>(null);
  /** The lesson's other progress, for the list of its exercises. */
  const [lessonStatuses, setLessonStatuses] = useState<Record<string, StepStatus>>({});
  const [results, setResults] = useState<CheckResultView[] | undefined>(undefined);
  // The first results come from opening the exercise: what is not reached yet shows as pending.
  const [resultCount, setResultCount] = useState(0);
  const [hints, setHints] = useState<Localized[]>([]);
  const [solution, setSolution] = useState<Localized | null>(null);

  useEffect(() => dispatch({ type: 'sandbox', sandboxId }), [sandboxId]);

  useEffect(() => {
    if (!socket) return;
    const onProgress: ServerToClientEvents['exercise:progress'] = (p) => {
      if (p.lessonId === lessonId && p.exerciseId === exercise.id) dispatch({ type: 'progress', progress: p });
    };
    const onResult: ServerToClientEvents['checks:result'] = (r) => {
      if (r.lessonId !== lessonId || r.stepId !== stepId) return;
      setResults(r.results);
      setResultCount((n) => n + 1);
      setStatus(r.stepStatus);
    };
    socket.on('exercise:progress', onProgress);
    socket.on('checks:result', onResult);
    return () => {
      socket.off('exercise:progress', onProgress);
      socket.off('checks:result', onResult);
    };
  }, [socket, lessonId, exercise.id, stepId]);

  // Prepare whenever there is a sandbox to prepare in and nothing is prepared yet.
  const { phase, attempts, reset } = state;
  const waiting = phase.kind === 'waiting';
  useEffect(() => {
    if (!socket || !state.sandboxId || !online || !waiting) return;
    dispatch({ type: 'start' });
    socket.emit('exercise:prepare', { lessonId, exerciseId: exercise.id, reset }, (r) =>
      dispatch(r.ok ? { type: 'ready' } : { type: 'failed', message: r.error.message }),
    );
  }, [socket, state.sandboxId, online, waiting, attempts, reset, lessonId, exercise.id]);

  // Ready: its checks run on every change, and the time budget counts from its first opening.
  const ready = phase.kind === 'ready';
  useEffect(() => {
    if (!socket || !ready || !online) return;
    setResultCount(0);
    socket.emit('lesson:focus', { lessonId, stepId });
  }, [socket, ready, online, lessonId, stepId]);
  useEffect(() => {
    if (!ready) return;
    let current = true;
    void api<{ steps: Record<string, { status: StepStatus; startedAt: string }> }>('GET', `/api/progress/${lessonId}`)
      .then((p) => {
        if (!current) return;
        setLessonStatuses(Object.fromEntries(Object.entries(p.steps).map(([k, v]) => [k, v.status])));
        const mine = p.steps[stepId];
        if (mine) setStatus((s) => (s === 'pending' ? mine.status : s));
        setStartedAt(mine ? Date.parse(mine.startedAt) : Date.now());
      })
      .catch(() => current && setStartedAt(Date.now()));
    return () => {
      current = false;
    };
  }, [ready, lessonId, stepId]);

  const showHint = async () => {
    const r = await api<{ hint: Localized }>('POST', `/api/progress/${lessonId}/exercises/${exercise.id}/hint`, {
      index: hints.length,
    });
    setHints((h) => [...h, r.hint]);
  };
  const showSolution = async () => {
    const r = await api<{ solution: Localized; status: StepStatus }>(
      'POST',
      `/api/progress/${lessonId}/exercises/${exercise.id}/solution`,
    );
    setSolution(r.solution);
    setStatus(r.status);
  };
  const retry = useCallback(() => dispatch({ type: 'again', reset: false }), []);
  const startOver = useCallback(() => {
    setResults(undefined);
    dispatch({ type: 'again', reset: true });
  }, []);

  return {
    phase,
    status,
    statuses: { ...lessonStatuses, [stepId]: status },
    startedAt,
    results:
      resultCount > 1
        ? results
        : results?.map((r) => (r.status === 'failed' ? { id: r.id, status: 'pending' as const } : r)),
    hints,
    solution,
    showHint,
    showSolution,
    retry,
    startOver,
  };
}
