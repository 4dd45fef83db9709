// A new sandbox's first shell, started when `sandbox:ensure` hands the sandbox out rather than when the
// page's terminal asks for it: bash starts (and draws its prompt into the scrollback) while the browser
// is still mounting xterm, so `terminal:open`'s answer already carries the prompt.
//
// Only ever one terminal for the page's first slot: the shell is started only for a sandbox this very
// `sandbox:ensure` handed out (it had no shell anywhere yet), and the page's `terminal:open` takes it
// whenever it would otherwise get a new terminal: no id, or an id that is no longer a terminal of theirs
// (a stale one after an instructor's reset). So an instructor's mirror, which follows the sandbox's
// terminals, never follows a shell the page does not show. One that nobody takes ends with the socket
// that started it.
//
// Not earlier, with the lesson page's own request: tried and measured (bench:web, a returning learner
// against a first visit, alternating): each process this server spawns for the hand-out and the shell is
// a fork of it that holds its event loop, so the page's scripts, served meanwhile, came 2-3x later and the
// prompt no sooner.
import type { IncomingMessage } from 'node:http';
import type { Engine } from '../engine/engine';
import type { Terminal } from '../engine/terminals';
import { localeFrom } from '../http/previewPage';

type Locale = 'en' | 'ko';
// The size a new terminal usually has; the page's real size comes with `terminal:open` (a resize).
const COLS = 80;
const ROWS = 24;

/** The page's language as the web app picks it: its cookie, else the browser's languages. */
export function pageLocale(req: IncomingMessage): Locale {
  const chosen = /(?:^|;\s*)dockside_lang=(en|ko)(?:;|$)/.exec(req.headers.cookie ?? '')?.[1];
  return chosen === 'en' || chosen === 'ko' ? chosen : localeFrom(req.headers['accept-language']);
}

type Pending = { sandboxId: string; locale: Locale; owner: FirstShell; terminal: Promise<Terminal | null> };

// Per learner, across their sockets: two tabs asking for one new sandbox start one shell, not two.
const pending = new Map<string, Pending>();

export class FirstShell {
  constructor(
    private readonly engine: Engine,
    private readonly learnerId: string,
    private readonly locale: Locale,
  ) {}

  /**
   * A `sandbox:ensure` begins: what it calls when its sandbox is the learner's (null: none, or it is done),
   * which starts the sandbox's first shell if it is new, the moment it is handed out. Meanwhile `claim`
   * waits: the page hears of a warm sandbox (its state) before the answer, and asks for its terminal then.
   */
  async handOut(): Promise<(sandboxId: string | null) => void> {
    let settle!: () => void;
    this.handingOut = new Promise<void>((resolve) => (settle = resolve));
    // The sandbox the learner has now: a different one afterwards is new. Also one another replica handed
    // out (the page reconnected here): it has its shells already.
    const before = await this.engine
      .sandboxOfAnyReplica(this.learnerId)
      .then((s) => s?.id)
      .catch(() => undefined);
    return (sandboxId) => {
      if (sandboxId) this.start(sandboxId, before);
      settle();
    };
  }

  private handingOut: Promise<void> = Promise.resolve();

  /** Starts the first shell of `sandboxId` if `sandbox:ensure` just handed it out (it was not `before`'s). */
  private start(sandboxId: string, before: string | undefined): void {
    const old = pending.get(this.learnerId);
    if (sandboxId === before || old?.sandboxId === sandboxId) return;
    if (old) void old.terminal.then((t) => t?.kill()); // an earlier sandbox's, never taken
    const terminal = this.engine
      .openTerminal(this.learnerId, sandboxId, { cols: COLS, rows: ROWS, locale: this.locale })
      .catch(() => null); // the page's own `terminal:open` will say what is wrong
    pending.set(this.learnerId, { sandboxId, locale: this.locale, owner: this, terminal });
  }

  /**
   * The started shell, for a page that would get a new terminal in that sandbox, in that language (one in
   * another language ends, and the page gets its own); else null.
   */
  async claim(sandboxId: string, locale: Locale | undefined): Promise<Terminal | null> {
    await this.handingOut;
    const p = pending.get(this.learnerId);
    if (!p || p.sandboxId !== sandboxId) return null;
    pending.delete(this.learnerId);
    if (locale && locale !== p.locale) {
      void p.terminal.then((t) => t?.kill());
      return null;
    }
    const t = await p.terminal;
    return t && t.exited === undefined && this.engine.terminal(this.learnerId, t.id) ? t : null;
  }

  /** Ends the shell this socket started, if nobody took it. */
  drop(): void {
    const p = pending.get(this.learnerId);
    if (p?.owner !== this) return;
    pending.delete(this.learnerId);
    void p.terminal.then((t) => t?.kill());
  }
}
