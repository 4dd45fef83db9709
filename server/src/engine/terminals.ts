// Terminals: bash inside a sandbox under a session holder (native `session`), which keeps the pty and its
// scrollback, so a terminal outlives browser reloads and this server's restarts alike. Here: the
// attached browsers, a scrollback ring of our own and flow control (the holder is paused while the
// learner's browser is behind).
import { createHmac, randomBytes } from 'node:crypto';
import { DocksideError } from '../errors';
import { HeldSession } from './heldSession';
import { FILE_EXIT, type Runtime } from './runtime';
import { SHELL_RC, SHELL_RC_PATH, ShellIntegrationParser, shellArgv, type CommandEvent } from './shellIntegration';
/** Pause the session when this many characters are unacknowledged by the attached browser… */
export const HIGH_WATER = 256 * 1024;
/** …and resume it below this. */
export const LOW_WATER = 64 * 1024;
export const SCROLLBACK_CHARS = 256 * 1024;
/** Output is sent when this much has gathered; while it flows, every FLUSH_MS (fewer, larger frames). */
const FLUSH_CHARS = 64 * 1024;
const FLUSH_MS = 2;
export const MAX_TERMINALS_PER_SANDBOX = 6;
/** A holder sends its scrollback at once; one that does not is not waited for longer than this. */
const ATTACH_TIMEOUT_MS = 5000;
const NONCE_VAR = 'DOCKSIDE_NONCE';
/** Shell integration's prompt start (dockside-bashrc.sh draws it before each prompt). */
const PROMPT_START = '\x1b]633;A';

export type Viewer = {
  send: (data: string) => void;
  exit: (code: number | null) => void;
  /** Read-only mirrors (an instructor) never take part in flow control. */
  readOnly: boolean;
};

/** The last `capacity` characters written, kept as chunks so appends are cheap. */
export class RingBuffer {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly capacity: number) {}

  push(data: string): void {
    this.chunks.push(data);
    this.size += data.length;
    while (this.size > this.capacity) {
      const first = this.chunks[0]!;
      const excess = this.size - this.capacity;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.slice(excess);
        this.size -= excess;
      }
    }
    if (this.chunks.length > 1024) this.chunks = [this.chunks.join('')];
  }

  text(): string {
    return this.chunks.join('');
  }

  get length(): number {
    return this.size;
  }
}

export class TerminalError extends DocksideError {
  constructor(code: 'not_found' | 'too_many' | 'forbidden', message: string) {
    super({ not_found: 404, too_many: 409, forbidden: 403 }[code], code, message);
  }
}

export class Terminal {
  readonly scrollback = new RingBuffer(SCROLLBACK_CHARS);
  private readonly parser: ShellIntegrationParser;
  private session: HeldSession | undefined;
  private owner: Viewer | null = null;
  private mirrors = new Set<Viewer>();
  private unacked = 0;
  private paused = false;
  private outgoing: string[] = [];
  private outgoingChars = 0;
  /** Cancels the flush that is due, if one is. */
  private cancelFlush: (() => void) | undefined;
  private lastSent = 0;
  /** Called once the shell has drawn its first prompt (shell integration's prompt start). */
  private prompted: (() => void) | null = null;
  private readonly firstPromptDrawn = new Promise<void>((resolve) => (this.prompted = resolve));
  private promptTail = '';
  exited: number | null | undefined = undefined;

  private constructor(
    readonly id: string,
    readonly sandboxId: string,
    nonce: string,
    private readonly onCommand: (e: CommandEvent) => void,
    private readonly onExit: () => void,
    /**
     * Attached only for an instructor's mirror (the learner's page is on another replica, which reports
     * its commands): reports none until the learner attaches here, and lets go when the last mirror does.
     */
    private mirrorOnly = false,
  ) {
    this.parser = new ShellIntegrationParser(nonce);
  }

  /**
   * Attaches to the session at `socket`. A new one's scrollback is its first output; an adopted one's
   * (after a restart) was seen before: it is shown, and read only to know what command is running.
   */
  static async attach(
    socket: string,
    ids: { id: string; sandboxId: string; nonce: string },
    adopted: boolean,
    onCommand: (e: CommandEvent) => void,
    onExit: () => void,
    mirrorOnly = false,
  ): Promise<Terminal> {
    const t = new Terminal(ids.id, ids.sandboxId, ids.nonce, onCommand, onExit, mirrorOnly);
    let live = () => {};
    const caughtUp = new Promise<void>((resolve) => (live = resolve));
    t.session = await HeldSession.attach(socket, {
      scrollback: (data) => (adopted ? t.remember(data) : t.output(data)),
      live,
      output: (data) => t.output(data),
      exit: (code) => (live(), t.ended(code)),
    });
    // A new terminal's first output reaches whoever attaches next, as it comes. An adopted one is
    // attached once its scrollback is in: what the browser is given then is the whole of it.
    if (adopted) {
      const timer = setTimeout(live, ATTACH_TIMEOUT_MS);
      await caughtUp;
      clearTimeout(timer);
    }
    return t;
  }

  private remember(data: string): void {
    this.scrollback.push(data);
    this.parser.feed(data);
  }

  private output(data: string): void {
    this.scrollback.push(data);
    if (this.prompted) {
      const seen = this.promptTail + data; // the mark may come split across reads
      if (seen.includes(PROMPT_START)) {
        this.prompted();
        this.prompted = null;
      } else this.promptTail = seen.slice(-PROMPT_START.length);
    }
    for (const e of this.parser.feed(data)) if (!this.mirrorOnly) this.onCommand(e);
    this.outgoing.push(data);
    this.outgoingChars += data.length;
    if (this.outgoingChars >= FLUSH_CHARS) this.flush();
    else this.scheduleFlush();
  }

  /**
   * Output after a quiet moment (an echo, a prompt) goes at the end of this turn of the event loop, with
   * whatever else the same reads brought; output that keeps coming is gathered for FLUSH_MS, so a flood is
   * fewer, larger frames. A timer would hold every echo for at least its delay, and longer on a busy host.
   */
  private scheduleFlush(): void {
    if (this.cancelFlush) return;
    if (performance.now() - this.lastSent < FLUSH_MS) {
      const timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.cancelFlush = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.flush());
      this.cancelFlush = () => clearImmediate(immediate);
    }
  }

  private ended(code: number | null): void {
    this.flush();
    this.exited = code;
    this.owner?.exit(code);
    for (const m of this.mirrors) m.exit(code);
    this.onExit();
  }

  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (this.outgoing.length === 0) return;
    this.lastSent = performance.now();
    const data = this.outgoing.join('');
    this.outgoing = [];
    this.outgoingChars = 0;
    for (const m of this.mirrors) m.send(data);
    if (this.owner) {
      this.owner.send(data);
      this.unacked += data.length;
      if (this.unacked > HIGH_WATER && !this.paused) {
        this.paused = true;
        this.session?.pause();
      }
    }
  }

  /**
   * Once the shell has drawn its first prompt, or `ms` have passed (a shell that draws none, or ended): a
   * new terminal answered after it carries the prompt, and the page draws it from the answer.
   */
  firstPrompt(ms: number): Promise<void> {
    if (!this.prompted || this.exited !== undefined) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    return Promise.race([this.firstPromptDrawn, late]).finally(() => clearTimeout(timer));
  }

  /** Attaches the learner's browser (replacing an earlier one) and returns the scrollback to show. */
  attach(viewer: Viewer): string {
    this.flush();
    if (viewer.readOnly) this.mirrors.add(viewer);
    else {
      this.mirrorOnly = false;
      this.owner = viewer;
      this.unacked = 0;
      this.resume();
    }
    return this.scrollback.text();
  }

  detach(viewer: Viewer): void {
    this.mirrors.delete(viewer);
    if (this.owner === viewer) {
      // Nobody to wait for: let the program run on, its output kept in the scrollback.
      this.owner = null;
      this.resume();
    }
    if (this.mirrorOnly && this.mirrors.size === 0) {
      this.release();
      this.onExit();
    }
  }

  ack(chars: number): void {
    this.unacked = Math.max(0, this.unacked - chars);
    if (this.unacked < LOW_WATER) this.resume();
  }

  private resume(): void {
    if (this.paused) {
      this.paused = false;
      this.session?.resume();
    }
  }

  /** Whether a browser here shows it (the learner's page or a mirror). */
  get watched(): boolean {
    return this.owner !== null || this.mirrors.size > 0;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get pendingChars(): number {
    return this.unacked;
  }

  write(data: string): void {
    if (this.exited === undefined) this.session?.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.exited === undefined) this.session?.resize(cols, rows);
  }

  /** Ends the shell (the learner closed the tab, or the sandbox is going). */
  kill(): void {
    if (this.exited === undefined) this.session?.hangup();
  }

  /** Lets go of the session, which runs on in the sandbox (this server is stopping). */
  release(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    this.session?.detach();
  }
}

/** All terminals, by id; each belongs to one sandbox. */
export class TerminalHub {
  private terminals = new Map<string, Terminal>();
  /** Terminals being opened or attached: each session is attached once, whoever asks. */
  private attaching = new Map<string, Promise<Terminal>>();
  private prepared = new Set<string>();

  /** `secret` derives each terminal's nonce, so a restarted server knows the nonces of the terminals it adopts. */
  constructor(
    private readonly runtime: Runtime,
    private readonly onCommand: (sandboxId: string, e: CommandEvent) => void,
    private readonly secret: string,
  ) {}

  private nonce(sandboxId: string, terminalId: string): string {
    return createHmac('sha256', this.secret).update(`terminal ${sandboxId} ${terminalId}`).digest('hex').slice(0, 32);
  }

  private attach(sandboxId: string, id: string, adopted: boolean, mirrorOnly = false): Promise<Terminal> {
    const known = this.terminals.get(id);
    if (known) return Promise.resolve(known);
    const pending = this.attaching.get(id);
    if (pending) return pending;
    let t: Terminal | undefined;
    const work = Terminal.attach(
      this.runtime.sessionSocket(sandboxId, id),
      { id, sandboxId, nonce: this.nonce(sandboxId, id) },
      adopted,
      (e) => this.onCommand(sandboxId, e),
      () => {
        if (this.terminals.get(id) === t) this.terminals.delete(id);
      },
      mirrorOnly,
    ).then((attached) => {
      this.terminals.set(id, (t = attached));
      return attached;
    });
    return this.track(id, work);
  }

  private track(id: string, work: Promise<Terminal>): Promise<Terminal> {
    this.attaching.set(id, work);
    void work.then(
      () => this.attaching.delete(id),
      () => this.attaching.delete(id),
    );
    return work;
  }

  /** `locale` picks the welcome banner's language (dockside-bashrc.sh reads DOCKSIDE_LANG). */
  async open(sandboxId: string, cols: number, rows: number, locale?: 'en' | 'ko'): Promise<Terminal> {
    if (this.forSandbox(sandboxId).length >= MAX_TERMINALS_PER_SANDBOX)
      throw new TerminalError(
        'too_many',
        `at most ${MAX_TERMINALS_PER_SANDBOX} terminals per sandbox; close one first`,
      );
    await this.prepare(sandboxId);
    const id = `t-${randomBytes(6).toString('hex')}`;
    // Tracked from before the session exists, so a mirror looking for sessions meanwhile waits for this one.
    return this.track(
      id,
      this.runtime
        .openSession(sandboxId, id, shellArgv(NONCE_VAR), {
          cols,
          rows,
          // The shell's secret for its reports (shellIntegration.ts).
          env: { [NONCE_VAR]: this.nonce(sandboxId, id), ...(locale ? { DOCKSIDE_LANG: locale } : {}) },
        })
        .then(() => {
          this.attaching.delete(id);
          return this.attach(sandboxId, id, false);
        }),
    );
  }

  /**
   * Attaches to the terminals a sandbox already has that this server is not attached to (it restarted, or
   * another replica opened them); ended ones are skipped. `mirrorOnly`: for an instructor's mirror.
   */
  async adopt(sandboxId: string, { mirrorOnly = false } = {}): Promise<Terminal[]> {
    const ids = (await this.runtime.sessions(sandboxId)).filter((id) => !this.terminals.has(id));
    const attached = await Promise.allSettled(ids.map((id) => this.attach(sandboxId, id, true, mirrorOnly)));
    if (ids.length) this.prepared.add(sandboxId);
    return attached.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /**
   * The sandbox's running session `id` that this server has not attached to yet (the learner's page
   * reconnected here from another replica, or before this server adopted it), attached as a restart
   * adopts one: its scrollback is kept. Undefined when the sandbox has no such session or it has ended.
   */
  async reattach(sandboxId: string, id: string): Promise<Terminal | undefined> {
    const known = this.terminals.get(id) ?? (await this.attaching.get(id)?.catch(() => undefined));
    if (known) return known.sandboxId === sandboxId ? known : undefined;
    if (!(await this.runtime.sessions(sandboxId)).includes(id)) return undefined;
    const t = await this.attach(sandboxId, id, true).catch(() => undefined);
    if (t) this.prepared.add(sandboxId);
    return t;
  }

  /**
   * Installs the shell start-up file once per sandbox (it lives in the sandbox's own filesystem), from
   * outside: nothing of the sandbox's runs for it. The sandbox's start does it (engine.ts), so its first
   * terminal does not wait for it; a sandbox adopted from before does it with its first terminal.
   */
  async prepare(sandboxId: string): Promise<void> {
    if (this.prepared.has(sandboxId)) return;
    const dir = SHELL_RC_PATH.slice(0, SHELL_RC_PATH.lastIndexOf('/'));
    const mkdir = await this.runtime.file(sandboxId, 'create', [dir, 'dir'], { under: '/' });
    if (mkdir.code !== 0 && mkdir.code !== FILE_EXIT.exists)
      throw new Error(`could not prepare the terminal: ${mkdir.stderr.trim()}`);
    const r = await this.runtime.file(sandboxId, 'write', [SHELL_RC_PATH], {
      under: '/',
      stdin: Buffer.from(SHELL_RC),
    });
    if (r.code !== 0) throw new Error(`could not prepare the terminal: ${r.stderr.trim()}`);
    this.prepared.add(sandboxId);
  }

  get(terminalId: string): Terminal | undefined {
    return this.terminals.get(terminalId);
  }

  forSandbox(sandboxId: string): Terminal[] {
    return [...this.terminals.values()].filter((t) => t.sandboxId === sandboxId);
  }

  /** Ends a sandbox's terminals (it is being destroyed). */
  closeSandbox(sandboxId: string): void {
    for (const t of this.forSandbox(sandboxId)) t.kill();
    this.prepared.delete(sandboxId);
  }

  /** Lets go of a sandbox's terminals no browser here shows; they run on (another replica serves them). */
  releaseUnwatched(sandboxId: string): void {
    for (const t of this.forSandbox(sandboxId))
      if (!t.watched) {
        t.release();
        this.terminals.delete(t.id);
      }
  }

  /** Lets go of every terminal; they run on in their sandboxes for the next server to adopt. */
  releaseAll(): void {
    for (const t of this.terminals.values()) t.release();
    this.terminals.clear();
  }
}
