// The lesson page's socket, opened before the framework runs, and taken by the player as it mounts. The
// page's first boot script (web/boot/socket.ts, its own small bundle) opens it and asks for the sandbox in
// its handshake (the answer follows the connection's at once), so both overlap the rest of the page's
// loading. `useSandbox` takes both once; a page that connects later (an embed, after
// its session is made), any later mount, and a page whose boot script did not run open their own and ask
// themselves. Two bundles run this module, each with its own copy: what one leaves for the other is on
// `window`. The first terminal is handed over the same way (bootTerminal.ts).
import { openSocket, type DocksideSocket, type SandboxView } from '../../lib/socket';
import type {
  EnsureAnswer as EnsureAck,
  EnsureRequest,
  ServerToClientEvents,
  SocketAuth,
  SocketQuery,
} from '../../lib/socket';
import { markLoad } from '../../lib/timing';
import { EARLY_EVENT } from './bootTerminal';
import type { AlreadyOpen } from './terminalSession';
import { lastFirstTerminal, lastTerminalSize, saveFirstTerminal } from './terminalStore';

/** The answer `sandbox:ensure` gets (without the terminal the early one asks for: `EarlyEnsure.terminal`). */
export type EnsureAnswer = { ok: true; value: SandboxView } | Exclude<EnsureAck, { ok: true }>;
type QueuePlace = Parameters<ServerToClientEvents['sandbox:queue']>[0];

/** The page's first terminal, opened with its sandbox; what it printed is kept until a session takes it. */
export type EarlyTerminal = AlreadyOpen & { sandboxId: string };

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
  /**
   * Stops keeping the place and the first terminal's output (once the answer is taken: the page's own
   * listeners have them from then, and the first tab re-opens the terminal if the boot script did not
   * take it).
   */
  stop: () => void;
  /** The first terminal, once; null when the answer had none, or it was taken or dropped. */
  takeTerminal: () => EarlyTerminal | null;
};

export type Early = { socket: DocksideSocket; ensure: EarlyEnsure | null };
declare global {
  interface Window {
    /** 'taken': the player has its socket already; a boot script that runs later starts nothing. */
    __docksideEarly?: Early | 'taken';
  }
}

function open(query?: SocketQuery): DocksideSocket {
  const s = openSocket(query);
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
  const lessonId = lessonOfPath(window.location.pathname);
  // The lesson in the socket's address: the server starts on its sandbox as the connection opens, a turn
  // of this busy main thread before the handshake asks for it.
  const socket = open(lessonId ? { lesson: lessonId } : {});
  const ensure = lessonId ? ensureEarly(socket, lessonId) : null;
  window.__docksideEarly = { socket, ensure };
  window.dispatchEvent(new Event(EARLY_EVENT));
  return window.__docksideEarly;
}

/**
 * Asks for the lesson's sandbox with its first terminal open (the one the page had, if it is still
 * there): the prompt comes with the answer, a round trip sooner than a `terminal:open` after it.
 */
function ensureEarly(socket: DocksideSocket, lessonId: string): EarlyEnsure {
  let terminal: EarlyTerminal | null = null;
  const onOutput = (o: { terminalId: string; data: string }) => {
    if (terminal?.terminalId !== o.terminalId) return;
    terminal.scrollback += o.data;
    terminal.unacked += o.data.length;
  };
  const onExit = (e: { terminalId: string }) =>
    void (terminal?.terminalId === e.terminalId && (terminal.exited = true));
  const takeTerminal = () => {
    const t = terminal;
    terminal = null;
    socket.off('terminal:output', onOutput);
    socket.off('terminal:exit', onExit);
    return t;
  };
  const onQueue = (q: QueuePlace) => void (ensure.queue = q);
  const size = lastTerminalSize();
  const locale = document.documentElement.lang === 'ko' ? 'ko' : 'en';
  const request: EnsureRequest = { lessonId, terminal: { terminalId: lastFirstTerminal(), ...size, locale } };
  const ensure: EarlyEnsure = {
    lessonId,
    answer: new Promise<EnsureAnswer>((resolve) =>
      socket.once('sandbox:ensured', (r) => {
        let answer: EnsureAnswer = r;
        if (r.ok) {
          const { terminal: opened, ...sandbox } = r.value;
          answer = { ok: true, value: sandbox };
          if (opened) {
            markLoad('terminal-open');
            terminal = { ...opened, sandboxId: sandbox.id, unacked: 0, exited: false, ...size };
            // Whoever shows the first tab re-attaches to it, should the boot script not take it first.
            saveFirstTerminal(sandbox.id, opened.terminalId);
            // Until a session takes it, or the player drops it (`stop`), the terminal's output is kept.
            socket.on('terminal:output', onOutput);
            socket.on('terminal:exit', onExit);
          }
        }
        ensure.answered = answer;
        // A reconnection neither names the lesson nor asks again (below): the page asks itself, if it must.
        socket.io.opts.query = {};
        resolve(answer);
      }),
    ),
    queue: null,
    answered: null,
    stop: () => {
      socket.off('sandbox:queue', onQueue);
      takeTerminal();
    },
    takeTerminal,
  };
  socket.on('sandbox:queue', onQueue);
  // Asked in the handshake (until answered: a connection that fails asks again), not once connected: the
  // answer comes a round trip, and a turn of this busy main thread, sooner.
  socket.auth = (give) => give((ensure.answered ? {} : { ensure: request }) satisfies SocketAuth);
  return ensure;
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
