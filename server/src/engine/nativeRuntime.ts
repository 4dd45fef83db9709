// The Runtime over the native `dockside-sandbox` CLI (native/). The CLI is the only privileged part;
// this side only builds argument lists and parses its JSON.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { NATIVE_BUILD_DIR } from '../paths';
import { spawner } from './spawner';
import type {
  ExecOptions,
  ExecResult,
  FileOp,
  Runtime,
  RuntimeSandbox,
  SandboxInfo,
  SandboxLimits,
  SessionOptions,
} from './runtime';

/** A failed runtime command: its one-line message and exit code (native/README.md lists them). */
export class RuntimeError extends Error {
  constructor(
    readonly exitCode: number | null,
    message: string,
  ) {
    super(message);
  }

  get kind(): 'usage' | 'not_found' | 'exists' | 'not_running' | 'no_space' | 'failed' {
    return (
      ({ 2: 'usage', 3: 'not_found', 4: 'exists', 5: 'not_running', 6: 'no_space' } as const)[this.exitCode ?? 1] ??
      'failed'
    );
  }
}

export const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const MAX_STDERR_CHARS = 64 * 1024;

const mib = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024 ** 2))}M`;

export class NativeRuntime implements Runtime {
  readonly bin: string;

  constructor(
    private readonly dataDir: string,
    bin = process.env.DOCKSIDE_SANDBOX_BIN ?? path.join(NATIVE_BUILD_DIR, 'dockside-sandbox'),
  ) {
    this.bin = bin;
  }

  private env(): NodeJS.ProcessEnv {
    // Only what the CLI needs; it scrubs its environment anyway.
    return { PATH: process.env.PATH, DOCKSIDE_DATA_DIR: this.dataDir } as unknown as NodeJS.ProcessEnv;
  }

  /**
   * Runs the CLI to completion, from the spawner (spawner.ts); its output is capped (what a sandbox prints is
   * the learner's to choose).
   * The CLI stays a process we may signal whatever it runs, and takes its command's process group with it.
   */
  private async run(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await spawner
      .run({
        bin: this.bin,
        args,
        env: this.env(),
        stdin: opts.stdin,
        timeoutMs: opts.timeoutMs,
        maxOutputBytes: opts.maxOutputBytes ?? MAX_OUTPUT_BYTES,
        maxStderrChars: MAX_STDERR_CHARS,
      })
      .catch((e: Error) => {
        throw new RuntimeError(null, `cannot run ${this.bin}: ${e.message}`);
      });
    if (r.overflow)
      throw new RuntimeError(
        null,
        `${args[0]} printed more than ${opts.maxOutputBytes ?? MAX_OUTPUT_BYTES} bytes and was stopped`,
      );
    const stderr = r.timedOut ? `${args[0]} took longer than ${opts.timeoutMs} ms and was stopped` : r.stderr;
    return { code: r.code ?? (r.signal ? 128 : 1), stdout: r.stdout, stderr };
  }

  private async must(args: string[]): Promise<string> {
    const r = await this.run(args);
    if (r.code !== 0)
      throw new RuntimeError(
        r.code,
        r.stderr.trim().split('\n').at(-1) || `dockside-sandbox ${args[0]} exited with ${r.code}`,
      );
    return r.stdout.toString('utf8');
  }

  async create(id: string, range: number, limits: SandboxLimits): Promise<void> {
    await this.must([
      'create',
      id,
      '--range',
      String(range),
      '--memory',
      mib(limits.memoryBytes),
      '--pids',
      String(limits.pids),
      '--cpus',
      limits.cpus.toFixed(2),
      '--disk',
      mib(limits.diskBytes),
    ]);
  }

  async stop(id: string): Promise<void> {
    await this.must(['stop', id]);
  }

  async destroy(id: string): Promise<void> {
    await this.must(['destroy', id]);
  }

  async inspect(id: string): Promise<SandboxInfo> {
    const s = JSON.parse(await this.must(['inspect', id, '--json'])) as {
      id: string;
      running: boolean;
      range: number;
      pid: number;
      limits: SandboxLimits;
      memoryUsage: number;
      dockerSocket: string;
      createdAt: number;
    };
    return { ...s, createdAt: s.createdAt * 1000 };
  }

  async list(): Promise<RuntimeSandbox[]> {
    const rows = JSON.parse(await this.must(['list', '--json'])) as {
      id: string;
      running: boolean;
      range: number;
      createdAt: number;
    }[];
    return rows.map((s) => ({ id: s.id, running: s.running, range: s.range, createdAt: s.createdAt * 1000 }));
  }

  exec(id: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(['exec', id, '--', ...argv], opts);
  }

  file(id: string, op: FileOp, args: string[], opts: { stdin?: Buffer; under?: string } = {}): Promise<ExecResult> {
    const under = opts.under ? ['--under', opts.under] : [];
    // A read is at most 1 MiB, a listing at most 20,000 names.
    return this.run(['file', ...under, id, op, ...args], { stdin: opts.stdin, timeoutMs: 15_000 });
  }

  async openSession(id: string, name: string, argv: string[], opts: SessionOptions): Promise<void> {
    const vars = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    const size = ['--cols', String(opts.cols), '--rows', String(opts.rows)];
    await this.must(['session', ...size, ...vars, id, name, '--', ...argv]);
  }

  async sessions(id: string): Promise<string[]> {
    const names = await readdir(path.dirname(this.sessionSocket(id, 'x'))).catch(() => []);
    return names.filter((n) => n.endsWith('.sock')).map((n) => n.slice(0, -'.sock'.length));
  }

  sessionSocket(id: string, name: string): string {
    return path.join(this.dataDir, 'sandboxes', id, 'run', 'terminals', `${name}.sock`);
  }

  /** A stream to 127.0.0.1:PORT inside the sandbox; it errors if nothing answers there. */
  async connect(id: string, port: number): Promise<Duplex> {
    const child = spawn(this.bin, ['connect', id, String(port)], { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => stream.destroy(e));
    child.on('exit', (code) => {
      if (code) stream.destroy(new RuntimeError(code, err.trim() || `nothing answers on port ${port}`));
    });
    stream.on('close', () => child.exitCode === null && child.kill());
    return stream;
  }

  dockerSocket(id: string): string {
    return path.join(this.dataDir, 'sandboxes', id, 'run', 'docker.sock');
  }
}
