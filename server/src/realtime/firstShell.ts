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
// Earlier still for a returning learner (a session cookie): their lesson page's own request hands the
// sandbox out and starts the shell (`startForLessonPage`), so the page's early socket finds both ready.
// Tried once before and dropped while each runtime command was a fork of this server, holding its event
// loop as the page's scripts were served; commands now start in a helper process (spawner.ts). A first
// visit, a prefetch, a fetch or an image request starts nothing: a request with no session behind it, or
// that is not the learner opening the page, takes no sandbox.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Client } from '../engine/admission';
import type { Engine } from '../engine/engine';
import type { EnsureResult } from '../engine/manager';
import type { Terminal } from '../engine/terminals';
import { localeFrom } from '../http/previewPage';

type Locale = 'en' | 'ko';
// The size a new terminal usually has; the page's real size comes with `terminal:open` (a resize).
const COLS = 80;
const ROWS = 24;
// A shell nobody took (the page never came, or asked in another language) ends after this.
const UNCLAIMED_MS = 60_000;
// How long the page's answer waits for its new shell's first prompt (bash takes ~50-100 ms to draw it).
const FIRST_PROMPT_MS = 400;

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
   * `sandbox:ensure` for the learner (and `lessonId`'s files put in place): the sandbox's first shell
   * starts if it is new, the moment it is handed out.
   */
  async ensure(client: Client | null, lessonId: string | undefined, lessonsDir: string): Promise<EnsureResult> {
    const handedOut = await this.handOut();
    try {
      const r = await this.engine.ensure(this.learnerId, client, handedOut);
      if (lessonId && 'sandbox' in r) await this.engine.seedLesson(r.sandbox.id, lessonId, lessonsDir);
      return r;
    } finally {
      handedOut(null);
    }
  }

  /**
   * An ensure begins: what it calls when its sandbox is the learner's (null: none, or it is done), which
   * starts the sandbox's first shell if it is new. Meanwhile `claim` waits: the page hears of a warm
   * sandbox (its state) before the answer, and asks for its terminal then.
   */
  private async handOut(): Promise<(sandboxId: string | null) => void> {
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
    const entry: Pending = { sandboxId, locale: this.locale, owner: this, terminal };
    pending.set(this.learnerId, entry);
    setTimeout(() => {
      if (pending.get(this.learnerId) !== entry) return;
      pending.delete(this.learnerId);
      void terminal.then((t) => t?.kill());
    }, UNCLAIMED_MS).unref();
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
    // Answered with its prompt: the page draws it from the answer, not from output that follows on a
    // later turn of its busy main thread.
    await t?.firstPrompt(FIRST_PROMPT_MS);
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

/** The lesson a request opens, when it is the learner opening it: a navigation, or the app's own move there. */
function lessonOpened(req: IncomingMessage): string | null {
  if (req.method !== 'GET') return null;
  const lessonId = /^\/lessons\/([A-Za-z0-9_-]{1,100})(?:\?|$)/.exec(req.url ?? '')?.[1];
  if (!lessonId) return null;
  const h = req.headers;
  const navigation = h['sec-fetch-mode'] === 'navigate' && h['sec-fetch-dest'] === 'document';
  // A client-side move (a link in the app): an RSC request, not one of the router's prefetches.
  const move = h.rsc === '1' && !h['next-router-prefetch'] && !h['next-router-segment-prefetch'];
  return navigation || move ? lessonId : null;
}

/**
 * A returning learner (`learnerId` had a session before this request) opens a lesson page: once the page's
 * HTML is sent (so its making does not wait on this), their sandbox is handed out, its first shell started
 * and the lesson's files put in, while the browser loads the page's scripts, as `sandbox:ensure` would.
 * What fails here is left for the page's own `sandbox:ensure` to say.
 */
export function startForLessonPage(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  learnerId: string,
  lessonsDir: string,
): void {
  const lessonId = lessonOpened(req);
  if (!lessonId) return;
  const shell = new FirstShell(engine, learnerId, pageLocale(req));
  const client = engine.client(req);
  res.once('finish', () => void shell.ensure(client, lessonId, lessonsDir).catch(() => {}));
}

/** A connection's ensure (`startForLessonSocket`): the lesson it named, its shell and the ensure's result. */
export type EarlyShell = { lessonId: string; shell: FirstShell; ensured: Promise<EnsureResult> };

/**
 * A lesson page's socket opens, naming its lesson in its address (`SocketQuery`): the learner's sandbox is
 * handed out, its first shell started and the lesson's files put in from the moment the connection
 * opens, while the page's busy main thread takes its turn to send the handshake that asks for them. That
 * handshake's ensure, for the same lesson, is this one, and takes the shell as its own; a shell it never
 * takes ends with the connection. Null when the socket names no lesson.
 */
export function startForLessonSocket(
  engine: Engine,
  req: IncomingMessage,
  learnerId: string,
  lessonsDir: string,
): EarlyShell | null {
  const lessonId = new URL(req.url ?? '/', 'http://socket').searchParams.get('lesson');
  if (!lessonId || !/^[A-Za-z0-9_-]{1,100}$/.test(lessonId)) return null;
  const shell = new FirstShell(engine, learnerId, pageLocale(req));
  const ensured = shell.ensure(engine.client(req), lessonId, lessonsDir);
  ensured.catch(() => {}); // what fails is the handshake's answer to say
  return { lessonId, shell, ensured };
}
