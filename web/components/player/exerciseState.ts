// Where an exercise's starting state stands, folded from what the page asked and the server pushed:
// waiting for a sandbox, being prepared (with its progress), ready, or failed (with the server's words).
// A new sandbox (a reset, or one that ended) must be prepared again.
import type { ExerciseProgress } from '@dockside/protocol';

export type ExercisePhase =
  | { kind: 'waiting' }
  | { kind: 'preparing'; percent: number; message: { en: string; ko: string } | null }
  | { kind: 'ready' }
  | { kind: 'failed'; message: string };

export type ExerciseState = {
  sandboxId: string | null;
  phase: ExercisePhase;
  /** Asks made so far (each retry or start-over is one more). */
  attempts: number;
  /** The next preparation makes the state again from scratch (the learner chose to start over). */
  reset: boolean;
};

export type ExerciseAction =
  | { type: 'sandbox'; sandboxId: string | null }
  | { type: 'start' }
  | { type: 'progress'; progress: ExerciseProgress }
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  /** The learner asks for the starting state again (a retry, or starting over). */
  | { type: 'again'; reset: boolean };

export const initialExerciseState: ExerciseState = {
  sandboxId: null,
  phase: { kind: 'waiting' },
  attempts: 0,
  reset: false,
};

export function exerciseReducer(state: ExerciseState, action: ExerciseAction): ExerciseState {
  switch (action.type) {
    case 'sandbox':
      if (action.sandboxId === state.sandboxId) return state;
      return { ...state, sandboxId: action.sandboxId, phase: { kind: 'waiting' }, reset: false };
    case 'start':
      return { ...state, phase: { kind: 'preparing', percent: 0, message: null } };
    case 'progress':
      // Only while preparing: a late push after the answer does not take the ready state back.
      if (state.phase.kind !== 'preparing') return state;
      return {
        ...state,
        phase: {
          kind: 'preparing',
          percent: Math.max(state.phase.percent, action.progress.percent),
          message: action.progress.message,
        },
      };
    case 'ready':
      return { ...state, phase: { kind: 'ready' }, reset: false };
    case 'failed':
      return { ...state, phase: { kind: 'failed', message: action.message } };
    case 'again':
      return { ...state, phase: { kind: 'waiting' }, attempts: state.attempts + 1, reset: action.reset };
  }
}
