// Terminals: node-pty running bash inside a sandbox, kept alive across browser reloads, with a scrollback
// ring buffer and flow control (the pty is paused while its attached browser is behind).
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import * as pty from 'node-pty';
import { FILE_EXIT, type Runtime } from './runtime';
import { SHELL_RC, SHELL_RC_PATH, ShellIntegrationParser, shellArgv, type CommandEvent } from './shellIntegration';

/** Pause the pty when this many characters are unacknowledged by the attached browser… */
export const HIGH_WATER = 256 * 1024;
/** …and resume it below this. */
export const LOW_WATER = 64 * 1024;
export const SCROLLBACK_CHARS = 256 * 1024;
/** Output is sent when this much has gathered, or after FLUSH_MS: typing stays immediate enough. */
const FLUSH_CHARS = 64 * 1024;
const FLUSH_MS = 2;
export const MAX_TERMINALS_PER_SANDBOX = 6;
const NONCE_VAR = 'DOCKSIDE_NONCE';

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

export class TerminalError extends Error {
  constructor(
    readonly code: 'not_found' | 'too_many' | 'forbidden',
    message: string,
  ) {
    super(message);
  }
}

export class Terminal {
  readonly scrollback = new RingBuffer(SCROLLBACK_CHARS);
  private readonly parser: ShellIntegrationParser;
  private owner: Viewer | null = null;
  private mirrors = new Set<Viewer>();
  private unacked = 0;
  private paused = false;
  private outgoing: string[] = [];
  private outgoingChars = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  exited: number | null | undefined = undefined;

  constructor(
    readonly id: string,
    readonly sandboxId: string,
    private readonly proc: pty.IPty,
    nonce: string,
    onCommand: (e: CommandEvent) => void,
    onExit: () => void,
  ) {
    this.parser = new ShellIntegrationParser(nonce);
    proc.onData((data) => {
      this.scrollback.push(data);
      for (const e of this.parser.feed(data)) onCommand(e);
      // Coalesce a burst of small pty reads into one message: a flood is fewer, larger frames.
      this.outgoing.push(data);
      this.outgoingChars += data.length;
      if (this.outgoingChars >= FLUSH_CHARS) this.flush();
      else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
    });
    proc.onExit(({ exitCode }) => {
      this.flush();
      this.exited = exitCode;
      this.owner?.exit(exitCode);
      for (const m of this.mirrors) m.exit(exitCode);
      onExit();
    });
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.outgoing.length === 0) return;
    const data = this.outgoing.join('');
    this.outgoing = [];
    this.outgoingChars = 0;
    for (const m of this.mirrors) m.send(data);
    if (this.owner) {
      this.owner.send(data);
      this.unacked += data.length;
      if (this.unacked > HIGH_WATER && !this.paused) {
        this.paused = true;
        this.proc.pause();
      }
    }
  }

  /** Attaches the learner's browser (replacing an earlier one) and returns the scrollback to show. */
  attach(viewer: Viewer): string {
    this.flush();
    if (viewer.readOnly) this.mirrors.add(viewer);
    else {
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
  }

  ack(chars: number): void {
    this.unacked = Math.max(0, this.unacked - chars);
    if (this.unacked < LOW_WATER) this.resume();
  }

  private resume(): void {
    if (this.paused) {
      this.paused = false;
      this.proc.resume();
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get pendingChars(): number {
    return this.unacked;
  }

  write(data: string): void {
    if (this.exited === undefined) this.proc.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.exited === undefined) this.proc.resize(cols, rows);
  }

  kill(): void {
    if (this.exited === undefined) this.proc.kill('SIGHUP');
  }
}

/**
 * node-pty leaves its master open across exec: every process the server starts later (another learner's
 * terminal among them) would inherit it. Nothing forks between spawn() and here, on this one thread.
 */
// fs-ext ships no types; this is the one call the server makes.
const { fcntlSync } = createRequire(import.meta.url)('fs-ext') as {
  fcntlSync: (fd: number, cmd: 'setfd', flags: number) => number;
};

function closeOnExec(proc: pty.IPty): void {
  const fd = (proc as unknown as { _fd?: number })._fd;
  if (typeof fd !== 'number') throw new Error('node-pty no longer exposes its master descriptor');
  fcntlSync(fd, 'setfd', 1 /* FD_CLOEXEC */);
}

/** All terminals, by id; each belongs to one sandbox. */
export class TerminalHub {
  private terminals = new Map<string, Terminal>();
  private prepared = new Set<string>();

  constructor(
    private readonly runtime: Runtime,
    private readonly onCommand: (sandboxId: string, e: CommandEvent) => void,
  ) {}

  /** `locale` picks the welcome banner's language (dockside-bashrc.sh reads DOCKSIDE_LANG). */
  async open(sandboxId: string, cols: number, rows: number, locale?: 'en' | 'ko'): Promise<Terminal> {
    if (this.forSandbox(sandboxId).length >= MAX_TERMINALS_PER_SANDBOX)
      throw new TerminalError(
        'too_many',
        `at most ${MAX_TERMINALS_PER_SANDBOX} terminals per sandbox; close one first`,
      );
    await this.prepare(sandboxId);
    // The shell's secret for its reports (shellIntegration.ts); new for every terminal.
    const nonce = randomBytes(16).toString('hex');
    const { file, args } = this.runtime.ptyCommand(sandboxId, shellArgv(NONCE_VAR), {
      [NONCE_VAR]: nonce,
      ...(locale ? { DOCKSIDE_LANG: locale } : {}),
    });
    const proc = pty.spawn(file, args, {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: '/',
      env: { TERM: 'xterm-256color', PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    closeOnExec(proc);
    const id = `t-${randomBytes(6).toString('hex')}`;
    const terminal = new Terminal(
      id,
      sandboxId,
      proc,
      nonce,
      (e) => this.onCommand(sandboxId, e),
      () => this.terminals.delete(id),
    );
    this.terminals.set(id, terminal);
    return terminal;
  }

  /**
   * Installs the shell start-up file once per sandbox (it lives in the sandbox's own filesystem), from
   * outside: nothing of the sandbox's runs for it.
   */
  private async prepare(sandboxId: string): Promise<void> {
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

  closeAll(): void {
    for (const t of this.terminals.values()) t.kill();
  }
}
