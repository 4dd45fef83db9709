// Typed socket.io events: the one list of what browser and server say to each other.
// Every payload from the browser is validated with zod on arrival (see server/src/realtime/*.ts).
import type { ChecksResult } from './checks';
import type { DashboardSnapshot } from './dashboard';
import type { ExerciseProgress } from './exercises';
import type { SandboxPhase, SandboxView } from './sandbox';

export interface ServerToClientEvents {
  'session:ready': (info: { learnerId: string }) => void;
  /** Cold start progress, 0–100, for a progress bar. */
  'sandbox:progress': (p: { phase: SandboxPhase; percent: number; message: string }) => void;
  'sandbox:state': (s: SandboxView) => void;
  /** The answer to the `sandbox:ensure` a socket sent in its handshake (`SocketAuth`), once, as its ack would be. */
  'sandbox:ensured': (answer: EnsureAnswer) => void;
  /** The machine is full: where the learner stands in the queue. */
  'sandbox:queue': (q: { position: number; estimateSeconds: number }) => void;
  /** Minutes before the sandbox ends (lifetime) or is reclaimed (idle). */
  'sandbox:warning': (w: { reason: 'idle' | 'lifetime'; at: string }) => void;
  'sandbox:error': (e: { code: string; message: string }) => void;
  /** The sandbox ended as sandboxes do (idle, lifetime, a reset, the workshop is over…); progress is kept. */
  'sandbox:ended': (e: {
    sandboxId: string;
    reason: 'idle' | 'lifetime' | 'reset' | 'lost' | 'shutdown' | 'released';
    message: string;
  }) => void;
  'terminal:output': (o: { terminalId: string; data: string }) => void;
  'terminal:exit': (e: { terminalId: string; code: number | null }) => void;
  'checks:result': (r: ChecksResult) => void;
  /** The learner's engine changed (images or containers): the Layers view refreshes. */
  'layers:changed': (c: { sandboxId: string }) => void;
  /** How far the starting state of an exercise is (`exercise:prepare`), for a progress bar. */
  'exercise:progress': (p: ExerciseProgress) => void;
  /** A message for the learner (an instructor's, or the server's). */
  toast: (t: { message: string; from?: string }) => void;
}

/** `locale`: the language of a new shell's welcome banner. */
export type TerminalOpen = {
  sandboxId: string;
  terminalId?: string;
  cols: number;
  rows: number;
  locale?: 'en' | 'ko';
};
export type OpenedTerminal = { terminalId: string; scrollback: string };

/** A refused request's error; a limit (`rate_limited`, `address_limit`) says in how many seconds to try again. */
export type AckError = { code: string; message: string; retryAfter?: number };
export type Ack<T> = (result: { ok: true; value: T } | { ok: false; error: AckError }) => void;

export type EnsureRequest = { lessonId?: string; terminal?: Omit<TerminalOpen, 'sandboxId'> };
/** A sandbox as `sandbox:ensure` answers it: with the first terminal open, when asked for and ready. */
type Ensured = SandboxView & { terminal?: OpenedTerminal };
export type EnsureAnswer = Parameters<Ack<Ensured>>[0];

/**
 * What a learner's socket may send in socket.io's handshake (its `auth`). `ensure`: a `sandbox:ensure`
 * asked with the connection itself, answered as `sandbox:ensured` right after it: the answer comes a round
 * trip sooner than an event sent once connected, and a turn of a busy page's main thread sooner.
 */
export type SocketAuth = { ensure?: EnsureRequest };

/**
 * What a lesson page's socket puts in its address (the connection's query). `lesson`: the server hands the
 * learner's sandbox out, starts its first shell and puts in that lesson's files as the connection opens,
 * while the page takes its turn to send the handshake whose `ensure` (`SocketAuth`) then finds them ready.
 */
export type SocketQuery = { lesson?: string };

export interface ClientToServerEvents {
  'session:whoami': (ack: Ack<{ learnerId: string }>) => void;
  /**
   * Ask for this learner's sandbox (started or taken from the warm pool); progress follows as events.
   * With `terminal`, a sandbox that is ready comes with that terminal open, as `terminal:open` would answer
   * it (one round trip for the page's first prompt); without it, or when it could not open, no `terminal`.
   */
  'sandbox:ensure': (req: EnsureRequest, ack: Ack<Ensured>) => void;
  /** Open a new terminal, or re-attach to an existing one (its scrollback comes back in the ack). */
  'terminal:open': (req: TerminalOpen, ack: Ack<OpenedTerminal>) => void;
  'terminal:input': (req: { terminalId: string; data: string }) => void;
  'terminal:resize': (req: { terminalId: string; cols: number; rows: number }) => void;
  /** Flow control: the browser has written this many more characters of output. */
  'terminal:ack': (req: { terminalId: string; chars: number }) => void;
  'terminal:close': (req: { terminalId: string }) => void;
  /**
   * Make an exercise's starting state in the learner's sandbox (progress follows as `exercise:progress`);
   * answers 'ready' when it was made there before, 'prepared' when made now; `reset` makes it again.
   */
  'exercise:prepare': (
    req: { lessonId: string; exerciseId: string; reset?: boolean },
    ack: Ack<{ state: 'prepared' | 'ready' }>,
  ) => void;
  /** The learner is looking at this step: run its checks now and whenever the engine changes. */
  'lesson:focus': (req: { lessonId: string; stepId: string }) => void;
}

// --- The instructor namespace (`/instructor`), authenticated by the instructor session cookie.

export interface InstructorServerToClientEvents {
  /** The room as it is now; sent on watch and whenever a learner of the room changes something. */
  'dashboard:update': (snapshot: DashboardSnapshot) => void;
  /** Output of a learner's terminal, mirrored read-only. */
  'mirror:output': (o: { terminalId: string; data: string }) => void;
  /** The mirrored learner opened terminals (with their scrollback) or lost some (closed, or a reset). */
  'mirror:terminals': (o: {
    learnerId: string;
    added: { terminalId: string; scrollback: string }[];
    removed: string[];
  }) => void;
}

export interface InstructorClientToServerEvents {
  'dashboard:watch': (req: { workshopId: string }, ack: Ack<DashboardSnapshot>) => void;
  /** Mirror a learner's terminals read-only; their scrollback comes back in the ack. */
  'mirror:open': (
    req: { workshopId: string; learnerId: string },
    ack: Ack<{ terminals: { terminalId: string; scrollback: string }[] }>,
  ) => void;
  'mirror:close': (req: { learnerId: string }) => void;
}
