// The lesson page's second boot script, bundled on its own with xterm (web/scripts/build-boot.mjs): over
// the socket the first one opened (socket.ts), it shows the first terminal, its prompt included, without
// waiting for React to hydrate, and leaves it for the player's first terminal tab (bootTerminal.ts).
// Where it cannot (no ready sandbox, the page not parsed that far, the terminal refused), it leaves what
// it has and the player does the rest as it would without it.
import { BOOT_DOCK_ID, leaveBootTerminal, whenEarly } from '../components/player/bootTerminal';
import type { Early, EarlyTerminal } from '../components/player/earlySocket';
import { createTerminalView, openTerminalSession, type TerminalView } from '../components/player/terminalSession';
import { loadTerminals, saveFirstTerminal } from '../components/player/terminalStore';
import type { SandboxView } from '../lib/socket';
import { markLoad } from '../lib/timing';

/**
 * xterm made ahead in the dock, hidden, while the socket connects and the sandbox is asked for: making it
 * (its DOM, its measuring) then overlaps the wait rather than following the answer.
 */
function prepareView(): TerminalView | null {
  const dock = document.getElementById(BOOT_DOCK_ID);
  if (!dock) return null;
  const host = document.createElement('div');
  host.className = 'terminal-host';
  host.dataset.waiting = '';
  dock.append(host);
  return createTerminalView(host);
}

function dropView(view: TerminalView | null): void {
  view?.term.dispose();
  view?.host.remove();
}

/** Shows the first terminal of `sandboxId` as the player would: the one opened with it, else its own. */
function showFirstTerminal(early: Early, sandboxId: string, opened: EarlyTerminal | null, made: TerminalView | null) {
  const dock = document.getElementById(BOOT_DOCK_ID);
  if (!dock) return dropView(made);
  const view = made ?? prepareView()!;
  const { host } = view;
  delete host.dataset.waiting;
  host.dataset.testid = 'terminal';
  const session = openTerminalSession({
    view,
    socket: early.socket,
    sandboxId,
    terminalId: opened?.terminalId ?? loadTerminals(sandboxId)[0]!.id,
    opened: opened ?? undefined,
    label: dock.dataset.label ?? '',
    callbacks: {
      onOpened: (id) => saveFirstTerminal(sandboxId, id),
      // Not the player's yet: its own pane opens the terminal and says what is wrong.
      onError: () => {
        session.dispose();
        host.remove();
      },
      onLeave: () => undefined,
      exitedText: dock.dataset.exited ?? '',
      locale: document.documentElement.lang === 'ko' ? 'ko' : 'en',
    },
  });
  leaveBootTerminal(session);
}

// The early `sandbox:ensure` asks for the first terminal too: a ready sandbox comes with it open. One
// that was not ready (started cold) has its terminal opened here once it is.
whenEarly((early) => {
  const ensure = early.ensure;
  if (!ensure) return;
  const view = prepareView();
  void ensure.answer.then((r) => {
    markLoad('ensured');
    const opened = r.ok ? ensure.takeTerminal() : null;
    if (opened) return showFirstTerminal(early, opened.sandboxId, opened, view);
    // Refused, or ready yet without its terminal (six are open, or it failed): the player's pane says why.
    if (!r.ok || r.value.phase === 'ready') return dropView(view);
    const onState = (sandbox: SandboxView) => {
      if (sandbox.phase !== 'ready') return;
      early.socket.off('sandbox:state', onState);
      showFirstTerminal(early, sandbox.id, null, view);
    };
    early.socket.on('sandbox:state', onState);
  });
});
