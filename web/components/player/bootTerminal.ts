// The lesson page's first terminal, shown by its second boot script (web/boot/terminal.ts) over the
// early socket (earlySocket.ts) before React hydrates, and taken by the player's first terminal tab
// (BootTerminalPane). No socket.io here: the boot script that imports this has none of its own.
import type { Early } from './earlySocket';
import type { TerminalSession } from './terminalSession';

declare global {
  interface Window {
    __docksideBootTerminal?: TerminalSession;
  }
}

export const EARLY_EVENT = 'dockside:early';

/** Runs `then` with what `connectEarly` opened, now or once it has (nothing once the player took it). */
export function whenEarly(then: (early: Early) => void): void {
  const early = window.__docksideEarly;
  if (early === 'taken') return;
  if (early) return then(early);
  window.addEventListener(EARLY_EVENT, () => whenEarly(then), { once: true });
}

/** The element the lesson page renders for the boot script's terminal (LessonPlayer). */
export const BOOT_DOCK_ID = 'boot-terminal';

/** Leaves the first terminal for the player (the boot script made it, over the early socket). */
export function leaveBootTerminal(session: TerminalSession): void {
  window.__docksideBootTerminal = session;
}

/**
 * The boot script's terminal while it lasts, if it shows `sandboxId` (the same one each time: the first
 * terminal tab shows it until it is closed); one of another sandbox is ended.
 */
export function bootTerminal(sandboxId: string): TerminalSession | null {
  const session = window.__docksideBootTerminal;
  if (!session) return null;
  if (session.sandboxId === sandboxId && !session.disposed()) return session;
  delete window.__docksideBootTerminal;
  session.dispose();
  session.host.remove();
  return null;
}
