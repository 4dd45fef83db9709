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
// Earlier still, for a learner who has a session already: the lesson page's own request (a document
// navigation to /lessons/<id>) hands the sandbox out and starts the shell while the browser downloads and
// hydrates the page (`startForPage`); the page's socket then finds both ready. A first visit (no session
// yet) waits for the page's socket, so a request that runs no page (a crawler) starts nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
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

// The owner: the socket that started it, or null for a page request (ended by a timer if no page takes it).
type Pending = { sandboxId: string; locale: Locale; owner: FirstShell | null; terminal: Promise<Terminal | null> };
/** A shell a page request started and no page took within this long is ended. */
const UNCLAIMED_PAGE_SHELL_MS = 60_000;

// Per learner, across their sockets: two tabs asking for one new sandbox start one shell, not two.
const pending = new Map<string, Pending>();

export class FirstShell {
  constructor(
    private readonly engine: Engine,
    private readonly learnerId: string,
    private readonly locale: Locale,
  ) {}

  /**
   * The sandbox the learner has now, before asking for one: a different one afterwards is new. Also one
   * another replica handed out (the page reconnected here): it has its shells already.
   */
  async before(): Promise<string | undefined> {
    return (await this.engine.sandboxOfAnyReplica(this.learnerId))?.id;
  }

  /** Starts the first shell of `sandboxId` if `sandbox:ensure` just handed it out (it was not `before`'s). */
  start(sandboxId: string, before: string | undefined): void {
    startShell(this.engine, this.learnerId, sandboxId, before, this.locale, this);
  }

  /**
   * The started shell, for a page that would get a new terminal in that sandbox, in that language (one in
   * another language ends, and the page gets its own); else null.
   */
  async claim(sandboxId: string, locale: Locale | undefined): Promise<Terminal | null> {
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

function startShell(
  engine: Engine,
  learnerId: string,
  sandboxId: string,
  before: string | undefined,
  locale: Locale,
  owner: FirstShell | null,
): void {
  const old = pending.get(learnerId);
  if (sandboxId === before || old?.sandboxId === sandboxId) return;
  if (old) void old.terminal.then((t) => t?.kill()); // an earlier sandbox's, never taken
  const terminal = engine.openTerminal(learnerId, sandboxId, { cols: COLS, rows: ROWS, locale }).catch(() => null); // the page's own `terminal:open` will say what is wrong
  const p: Pending = { sandboxId, locale, owner, terminal };
  pending.set(learnerId, p);
  if (owner) return;
  setTimeout(() => {
    if (pending.get(learnerId) !== p) return;
    pending.delete(learnerId);
    void terminal.then((t) => t?.kill());
  }, UNCLAIMED_PAGE_SHELL_MS).unref();
}

/** The lesson a request is the page of: a browser's document navigation to /lessons/<id>, else null. */
export function lessonPageOf(req: IncomingMessage): string | null {
  if (req.method !== 'GET' || req.headers['sec-fetch-mode'] !== 'navigate') return null;
  if (req.headers['sec-fetch-dest'] !== 'document') return null;
  const m = /^\/lessons\/([A-Za-z0-9_-]{1,100})\/?(?:\?|$)/.exec(req.url ?? '');
  return m ? m[1]! : null;
}

/**
 * For the page request of a lesson by a learner with a session: hands their sandbox out, puts the lesson's
 * files in place and starts its first shell, in the background. Whatever fails here is left for the page's
 * own `sandbox:ensure` to meet and say (a queue, a limit, a sandbox that could not start).
 */
export function startForPage(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  learnerId: string,
  lessonId: string,
  lessonsDir: string,
): void {
  const client = engine.client(req);
  const locale = pageLocale(req);
  const start = async () => {
    const before = (await engine.sandboxOfAnyReplica(learnerId))?.id;
    const r = await engine.ensure(learnerId, client);
    if (!('sandbox' in r)) return;
    startShell(engine, learnerId, r.sandbox.id, before, locale, null);
    const done = engine.seedLesson(r.sandbox.id, lessonId, lessonsDir);
    const entry = { sandboxId: r.sandbox.id, lessonId, done: done.catch(() => undefined) };
    seeded.set(learnerId, entry);
    // A page that never asks (closed at once) leaves nothing behind.
    setTimeout(() => seeded.get(learnerId) === entry && seeded.delete(learnerId), UNCLAIMED_PAGE_SHELL_MS).unref();
    await done;
  };
  // After the page is sent: its render has the event loop to itself.
  res.once('finish', () => void start().catch(() => undefined));
}

// The lesson files a page request put in place, for its page's first `sandbox:ensure` (which need not
// put them there again).
const seeded = new Map<string, { sandboxId: string; lessonId: string; done: Promise<void> }>();

/**
 * Puts a lesson's files in the learner's sandbox (where missing), or waits for the page request that is
 * doing so already (once: the next ask puts them in place again).
 */
export async function seedLesson(
  engine: Engine,
  learnerId: string,
  sandboxId: string,
  lessonId: string,
  lessonsDir: string,
): Promise<void> {
  const s = seeded.get(learnerId);
  if (s) seeded.delete(learnerId);
  if (s?.sandboxId === sandboxId && s.lessonId === lessonId) return s.done;
  return engine.seedLesson(sandboxId, lessonId, lessonsDir);
}
