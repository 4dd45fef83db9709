// The lesson page's second boot script, bundled on its own with xterm (web/scripts/build-boot.mjs): over
// the socket the first one opened (socket.ts), it shows the first terminal, its prompt included, without
// waiting for React to hydrate, and leaves it for the player's first terminal tab (bootTerminal.ts).
// Where it cannot (no ready sandbox, the page not parsed that far, the terminal refused), it leaves what
// it has and the player does the rest as it would without it.
import { BOOT_DOCK_ID, leaveBootTerminal, whenEarly } from '../components/player/bootTerminal';
import type { Early } from '../components/player/earlySocket';
import { openTerminalSession } from '../components/player/terminalSession';
import { loadTerminals, saveTerminals } from '../components/player/terminalStore';
import type { SandboxView } from '../lib/socket';
import { markLoad } from '../lib/timing';

let shown = false;

/** Shows the first terminal of the first ready sandbox the page hears of, as the player would. */
function showFirstTerminal(early: Early, sandbox: SandboxView): void {
  const dock = document.getElementById(BOOT_DOCK_ID);
  if (shown || sandbox.phase !== 'ready' || !dock) return;
  shown = true;
  const sandboxId = sandbox.id;
  const slots = loadTerminals(sandboxId);
  const host = document.createElement('div');
  host.className = 'terminal-host';
  host.dataset.testid = 'terminal';
  dock.append(host);
  const session = openTerminalSession({
    host,
    socket: early.socket,
    sandboxId,
    terminalId: slots[0]?.id,
    label: dock.dataset.label ?? '',
    callbacks: {
      onOpened: (id) => saveTerminals(sandboxId, [{ ...slots[0]!, id }, ...slots.slice(1)]),
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

// Whichever comes first: a warm hand-out announces the sandbox before `sandbox:ensure` answers. Both are
// heard here before the player hears them (these listeners are older), so the terminal is there when the
// player renders its first tab.
whenEarly((early) => {
  const onState = (sandbox: SandboxView) => {
    showFirstTerminal(early, sandbox);
    if (shown) early.socket.off('sandbox:state', onState);
  };
  early.socket.on('sandbox:state', onState);
  void early.ensure?.answer.then((r) => {
    markLoad('ensured');
    if (r.ok) onState(r.value);
  });
});
