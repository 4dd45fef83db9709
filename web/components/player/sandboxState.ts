// The learner's sandbox as the lesson page knows it, folded from socket events and the page's own requests.
// Pure: `useSandbox` feeds it and performs what it asks for (`ensureRequests`), so it is tested without a
// socket, a DOM or a timer.
import type { SandboxView, ServerToClientEvents } from '../../lib/socket';

/** Why a sandbox ended normally (idle, lifetime, a reset, the workshop is over, …), as the server says. */
export type SandboxEndReason = Parameters<ServerToClientEvents['sandbox:ended']>[0]['reason'];

/** What the page shows of the sandbox (the header's status, the workspace's banner). */
export type SandboxUi =
  | { kind: 'connecting' }
  | { kind: 'starting'; phase: 'allocating' | 'starting-engine'; percent: number; message: string }
  | { kind: 'queued'; position: number; estimateSeconds: number }
  | { kind: 'ready'; sandbox: SandboxView }
  | { kind: 'failed'; message: string }
  | { kind: 'expired'; reason: SandboxEndReason };

export type SandboxState = {
  ui: SandboxUi;
  /** The socket is connected (the page says so when it is not). */
  online: boolean;
  /** ISO time the sandbox is reclaimed at for idleness, while the learner has not been seen since the warning. */
  idleWarningAt: string | null;
  /** The learner asked for a reset that has not answered yet: the old sandbox's end is expected, not news. */
  resetting: boolean;
  /**
   * How many times the sandbox should be asked for (`sandbox:ensure`) so far: the hook asks once per increase.
   * Asking is what puts a lesson's files in place, so it follows every (re)connection and every new seat.
   */
  ensureRequests: number;
  /** An ensure is on its way (asked, not answered): it puts the files in place, so none is asked beside it. */
  asking: boolean;
};

export type SandboxEvent =
  // The socket.
  | { type: 'connect' }
  | { type: 'disconnect' }
  // Server events.
  | { type: 'progress'; phase: SandboxView['phase']; percent: number; message: string }
  | { type: 'queue'; position: number; estimateSeconds: number }
  | { type: 'state'; sandbox: SandboxView }
  | { type: 'warning'; reason: 'idle' | 'lifetime'; at: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'ended'; sandboxId: string; reason: SandboxEndReason }
  // Answers to the page's requests. `message` is already in the page's language.
  | { type: 'ensured'; sandbox: SandboxView }
  | { type: 'refused'; code: string; message: string }
  | { type: 'reset:start' }
  | { type: 'reset:done'; sandbox: SandboxView }
  | { type: 'failed'; message: string }
  // The learner.
  | { type: 'retry' }
  | { type: 'active' };

export const initialSandboxState: SandboxState = {
  ui: { kind: 'connecting' },
  online: true,
  idleWarningAt: null,
  resetting: false,
  ensureRequests: 0,
  asking: false,
};

const ensureAgain = (s: SandboxState): SandboxState => ({ ...s, ensureRequests: s.ensureRequests + 1, asking: true });

export function sandboxReducer(state: SandboxState, event: SandboxEvent): SandboxState {
  switch (event.type) {
    case 'connect':
      return ensureAgain({ ...state, online: true });
    case 'disconnect':
      return state.online ? { ...state, online: false } : state;
    case 'progress':
      if (event.phase !== 'allocating' && event.phase !== 'starting-engine') return state;
      return { ...state, ui: { kind: 'starting', phase: event.phase, percent: event.percent, message: event.message } };
    case 'queue':
      return { ...state, ui: { kind: 'queued', position: event.position, estimateSeconds: event.estimateSeconds } };
    case 'state': {
      if (event.sandbox.phase !== 'ready') return state;
      const next: SandboxState = { ...state, ui: { kind: 'ready', sandbox: event.sandbox } };
      // A queued (or ended) learner got a seat: ask again so the lesson's files are put in place. Not when
      // the page's own ask is on its way (a warm hand-out announces itself before it answers).
      return state.ui.kind === 'ready' || state.asking ? next : ensureAgain(next);
    }
    case 'warning':
      return event.reason === 'idle' ? { ...state, idleWarningAt: event.at } : state;
    case 'error':
      // Other codes answer a request without an ack (a typo'd terminal id, say): nothing the page shows.
      if (event.code !== 'sandbox_failed') return state;
      return { ...state, ui: { kind: 'failed', message: event.message } };
    case 'ended':
      // The page shows another sandbox already (a reset answered first), or is making one: not this news.
      if (state.ui.kind === 'ready' && state.ui.sandbox.id !== event.sandboxId) return state;
      if (state.resetting && event.reason === 'reset') return state;
      return { ...state, ui: { kind: 'expired', reason: event.reason }, idleWarningAt: null };
    case 'ensured':
      return {
        ...state,
        asking: false,
        ui: event.sandbox.phase === 'ready' ? { kind: 'ready', sandbox: event.sandbox } : { kind: 'connecting' },
      };
    case 'refused': {
      const answered = { ...state, asking: false };
      if (event.code !== 'queued') return { ...answered, ui: { kind: 'failed', message: event.message } };
      // Its position comes as a `sandbox:queue` event, which may have come first.
      return state.ui.kind === 'queued'
        ? answered
        : { ...answered, ui: { kind: 'queued', position: 0, estimateSeconds: 0 } };
    }
    case 'reset:start':
      return {
        ...state,
        resetting: true,
        idleWarningAt: null,
        ui: { kind: 'starting', phase: 'allocating', percent: 0, message: '' },
      };
    case 'reset:done':
      return ensureAgain({ ...state, resetting: false, ui: { kind: 'ready', sandbox: event.sandbox } });
    case 'failed':
      return { ...state, resetting: false, ui: { kind: 'failed', message: event.message } };
    case 'retry':
      return ensureAgain(state);
    case 'active':
      return state.idleWarningAt === null ? state : { ...state, idleWarningAt: null };
  }
}

/** The sandbox the page works in, once it is ready. */
export const readySandboxId = (state: SandboxState): string | null =>
  state.ui.kind === 'ready' ? state.ui.sandbox.id : null;
