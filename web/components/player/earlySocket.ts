// The lesson page's socket, opened as soon as the page's code runs in the browser (before React hydrates),
// so its handshake overlaps hydration and `sandbox:ensure` goes out the moment the player mounts.
// `useSandbox` takes it once; a page that connects later (an embed, after its session is made) and any
// later mount open their own.
import { openSocket, type DocksideSocket } from '../../lib/socket';
import { markLoad } from '../../lib/timing';

let early: DocksideSocket | null = null;

function open(): DocksideSocket {
  const s = openSocket();
  s.once('connect', () => markLoad('socket'));
  return s;
}

/** Opens the page's socket now, in the browser (a server render opens nothing). */
export function connectEarly(): void {
  if (typeof window !== 'undefined' && !early) early = open();
}

/** The socket opened early, if it is still unclaimed, else a new one. */
export function takeSocket(): DocksideSocket {
  const s = early ?? open();
  early = null;
  return s;
}
