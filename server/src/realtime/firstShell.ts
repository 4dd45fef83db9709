// A sandbox's first shell, started when `sandbox:ensure` hands the sandbox out rather than when the page's
// terminal asks for it: bash starts (and draws its prompt into the scrollback) while the browser is still
// loading xterm, so `terminal:open`'s answer already carries the prompt. One per socket; a shell nobody
// claimed is ended when the socket goes.
import type { IncomingMessage } from 'node:http';
import type { Engine } from '../engine/engine';
import type { Terminal } from '../engine/terminals';
import { localeFrom } from '../http/previewPage';

type Locale = 'en' | 'ko';
// The size a new terminal usually has; the page's real size comes with `terminal:open`.
const COLS = 80;
const ROWS = 24;

/** The page's language as the web app picks it: its cookie, else the browser's languages. */
export function pageLocale(req: IncomingMessage): Locale {
  const chosen = /(?:^|;\s*)dockside_lang=(en|ko)(?:;|$)/.exec(req.headers.cookie ?? '')?.[1];
  return chosen === 'en' || chosen === 'ko' ? chosen : localeFrom(req.headers['accept-language']);
}

export class FirstShell {
  private pending: { sandboxId: string; locale: Locale; terminal: Promise<Terminal | null> } | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly learnerId: string,
    private readonly locale: Locale,
  ) {}

  /** Starts a shell in the sandbox if it has none yet (a new sandbox, not a reload's). */
  start(sandboxId: string): void {
    if (this.pending || this.engine.terminalsOf(this.learnerId).length > 0) return;
    const terminal = this.engine
      .openTerminal(this.learnerId, sandboxId, { cols: COLS, rows: ROWS, locale: this.locale })
      .catch(() => null); // the page's own `terminal:open` will say what is wrong
    this.pending = { sandboxId, locale: this.locale, terminal };
  }

  /** The started shell, for a page asking for a new terminal in that sandbox and language; else null. */
  async claim(sandboxId: string, locale: Locale | undefined): Promise<Terminal | null> {
    const p = this.pending;
    if (!p || p.sandboxId !== sandboxId) return null;
    if (locale && locale !== p.locale) return (this.drop(), null);
    this.pending = null;
    const t = await p.terminal;
    return t && t.exited === undefined && this.engine.terminal(this.learnerId, t.id) ? t : null;
  }

  /** Ends a shell nobody claimed. */
  drop(): void {
    const p = this.pending;
    this.pending = null;
    void p?.terminal.then((t) => t?.kill());
  }
}
