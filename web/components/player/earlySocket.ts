// The lesson page's socket, opened before the framework runs, and taken by the player as it mounts. The
// page's first boot script (web/boot/socket.ts, its own small bundle) opens it and asks for the sandbox at
// once (socket.io sends it the moment the socket connects), so the handshake and the answer overlap the
// rest of the page's loading. `useSandbox` takes both once; a page that connects later (an embed, after
// its session is made), any later mount, and a page whose boot script did not run open their own and ask
// themselves. Two bundles run this module, each with its own copy: what one leaves for the other is on
// `window`. The first terminal is handed over the same way (bootTerminal.ts).
import { openSocket, type DocksideSocket } from '../../lib/socket';
import type { ClientToServerEvents, ServerToClientEvents } from '../../lib/socket';
import { markLoad } from '../../lib/timing';
import { EARLY_EVENT } from './bootTerminal';

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

export type Early = { socket: DocksideSocket; ensure: EarlyEnsure | null };
declare global {
  interface Window {
    /** 'taken': the player has its socket already; a boot script that runs later starts nothing. */
    __docksideEarly?: Early | 'taken';
  }
}

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

/**
 * Opens the page's socket now, in the browser, and asks for the sandbox of the page's lesson; null when the
 * player runs already (it opened its own).
 */
export function connectEarly(): Early | null {
  if (window.__docksideEarly) return window.__docksideEarly === 'taken' ? null : window.__docksideEarly;
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
  window.__docksideEarly = { socket, ensure };
  window.dispatchEvent(new Event(EARLY_EVENT));
  return window.__docksideEarly;
}

/**
 * The socket opened early, if it is still unclaimed (with its `sandbox:ensure` on the way, if it asked),
 * else a new one.
 */
export function takeSocket(): Early {
  const early = window.__docksideEarly;
  window.__docksideEarly = 'taken';
  return early && early !== 'taken' ? early : { socket: open(), ensure: null };
}
