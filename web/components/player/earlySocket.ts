// The lesson page's socket, opened as soon as the page's code runs in the browser (before React hydrates),
// so its handshake overlaps hydration. The lesson page's first `sandbox:ensure` is asked with it, at once
// (socket.io sends it the moment the socket connects): the server hands the sandbox out and starts its
// first shell while React is still hydrating, instead of after the player mounts and asks.
// `useSandbox` takes both once; a page that connects later (an embed, after its session is made) and any
// later mount open their own and ask themselves.
import { openSocket, type DocksideSocket } from '../../lib/socket';
import type { ClientToServerEvents, ServerToClientEvents } from '../../lib/socket';
import { markLoad } from '../../lib/timing';

/** The answer `sandbox:ensure` gets. */
export type EnsureAnswer = Parameters<Parameters<ClientToServerEvents['sandbox:ensure']>[1]>[0];
type QueuePlace = Parameters<ServerToClientEvents['sandbox:queue']>[0];
/**
 * `queue`: the place the server told while the page had no listener yet (a full machine answers the
 * ensure with "queued" and tells the place in its own event, which would otherwise be lost).
 */
export type EarlyEnsure = {
  lessonId: string;
  answer: Promise<EnsureAnswer>;
  queue: QueuePlace | null;
  /** The answer, once it came (the page may take it as it mounts, without waiting a turn). */
  answered: EnsureAnswer | null;
  /** Stops keeping the place (once the answer is taken: the page's own listener has it from then). */
  stop: () => void;
};

let early: { socket: DocksideSocket; ensure: EarlyEnsure | null } | null = null;

function open(): DocksideSocket {
  const s = openSocket();
  s.once('connect', () => markLoad('socket'));
  return s;
}

/** The lesson of a lesson page's address (/lessons/<id>), else null. */
export function lessonOfPath(pathname: string): string | null {
  const m = /^\/lessons\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

/** Opens the page's socket now, in the browser (a server render opens nothing), and asks for the sandbox. */
export function connectEarly(): void {
  if (typeof window === 'undefined' || early) return;
  const socket = open();
  const lessonId = lessonOfPath(window.location.pathname);
  const ensure: EarlyEnsure | null = lessonId
    ? {
        lessonId,
        answer: new Promise<EnsureAnswer>((resolve) =>
          socket.emit('sandbox:ensure', { lessonId }, (r) => {
            if (ensure) ensure.answered = r;
            resolve(r);
          }),
        ),
        queue: null,
        answered: null,
        stop: () => void socket.off('sandbox:queue', onQueue),
      }
    : null;
  const onQueue = (q: QueuePlace) => void (ensure && (ensure.queue = q));
  if (ensure) socket.on('sandbox:queue', onQueue);
  early = { socket, ensure };
}

/**
 * The socket opened early, if it is still unclaimed (with its `sandbox:ensure` on the way, if it asked),
 * else a new one.
 */
export function takeSocket(): { socket: DocksideSocket; ensure: EarlyEnsure | null } {
  const taken = early ?? { socket: open(), ensure: null };
  early = null;
  return taken;
}
