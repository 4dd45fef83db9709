// Starts the runtime's commands from a small helper process (spawnerProcess.mjs) instead of from the
// server itself. A process started here is a fork of this whole process (~500 MB with Next.js and Prisma),
// and Node holds its event loop until the command has started: 10-100 ms each, measured on a busy
// 2-CPU host (a page load starts six). Every socket's keystrokes and every page waited meanwhile. The
// helper's fork is of ~40 MB, and this side only passes a message.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.join(import.meta.dirname, 'spawnerProcess.mjs');

export type SpawnRequest = {
  bin: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  stdin?: Buffer | string;
  timeoutMs?: number;
  maxOutputBytes: number;
  maxStderrChars: number;
};

export type SpawnResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** It printed more than `maxOutputBytes` and was stopped. */
  overflow: boolean;
  /** It ran past `timeoutMs` and was stopped. */
  timedOut: boolean;
};

type Answer = Partial<SpawnResult> & { id: number; error?: string };
type Pending = { child: ChildProcess; resolve: (r: SpawnResult) => void; reject: (e: Error) => void };

export class Spawner {
  private child: ChildProcess | null = null;
  private lastId = 0;
  private readonly pending = new Map<number, Pending>();

  /** Runs a command to completion in the helper (started on first use, and again if it died). */
  async run(req: SpawnRequest): Promise<SpawnResult> {
    try {
      return await this.send(req);
    } catch (err) {
      // The helper had died and nobody heard yet (the message could not be sent): once more, in a new one.
      if (!(err as { notSent?: boolean }).notSent) throw err;
      return this.send(req);
    }
  }

  private send(req: SpawnRequest): Promise<SpawnResult> {
    const child = this.child?.connected ? this.child : this.start();
    const id = ++this.lastId;
    return new Promise<SpawnResult>((resolve, reject) => {
      this.pending.set(id, { child, resolve, reject });
      // Only while a command runs does the helper keep this process alive.
      child.channel?.ref();
      child.send({ id, ...req }, (err) => err && this.settle(id, Object.assign(err, { notSent: true })));
    });
  }

  private settle(id: number, result: Error | SpawnResult): void {
    const p = this.pending.get(id);
    if (!p) return; // answered already (a command that failed to start reports twice)
    this.pending.delete(id);
    if (![...this.pending.values()].some((o) => o.child === p.child)) p.child.channel?.unref();
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
  }

  private start(): ChildProcess {
    const child = fork(SCRIPT, [], {
      execArgv: [],
      env: { PATH: process.env.PATH } as unknown as NodeJS.ProcessEnv,
      serialization: 'advanced', // Buffers both ways, as they are
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.unref();
    child.channel?.unref();
    child.on('message', (a: Answer) => {
      if (a.error !== undefined) return this.settle(a.id, new Error(a.error));
      const stdout = a.stdout
        ? Buffer.from(a.stdout.buffer, a.stdout.byteOffset, a.stdout.byteLength)
        : Buffer.alloc(0);
      this.settle(a.id, {
        code: a.code ?? null,
        signal: a.signal ?? null,
        stdout,
        stderr: a.stderr ?? '',
        overflow: a.overflow ?? false,
        timedOut: a.timedOut ?? false,
      });
    });
    const lost = (why: string) => {
      if (this.child === child) this.child = null;
      for (const [id, p] of [...this.pending]) if (p.child === child) this.settle(id, new Error(why));
    };
    child.on('error', (e) => lost(`the process that starts runtime commands failed: ${e.message}`));
    child.on('exit', (code, signal) => lost(`the process that starts runtime commands ended (${signal ?? code})`));
    this.child = child;
    return child;
  }
}

/** The process's one helper: every runtime in it shares it. */
export const spawner = new Spawner();
