// The Runtime over the native `dockside-sandbox` CLI (native/). The CLI is the only privileged part;
// this side only builds argument lists and parses its JSON.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { NATIVE_BUILD_DIR } from '../paths';
import type { ExecResult, Runtime, RuntimeSandbox, SandboxInfo, SandboxLimits } from './runtime';

/** A failed runtime command: its one-line message and exit code (native/README.md lists them). */
export class RuntimeError extends Error {
  constructor(
    readonly exitCode: number | null,
    message: string,
  ) {
    super(message);
  }

  get kind(): 'usage' | 'not_found' | 'exists' | 'not_running' | 'failed' {
    return ({ 2: 'usage', 3: 'not_found', 4: 'exists', 5: 'not_running' } as const)[this.exitCode ?? 1] ?? 'failed';
  }
}

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

  /** Runs the CLI to completion; a non-zero exit becomes a RuntimeError with its one-line message. */
  private run(args: string[], opts: { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      let timer: NodeJS.Timeout | undefined;
      if (opts.timeoutMs)
        timer = setTimeout(() => {
          child.kill('SIGKILL');
        }, opts.timeoutMs);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', (e) => reject(new RuntimeError(null, `cannot run ${this.bin}: ${e.message}`)));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr: err });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin ?? '');
    });
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
    };
    return s;
  }

  async list(): Promise<RuntimeSandbox[]> {
    const rows = JSON.parse(await this.must(['list', '--json'])) as { id: string; running: boolean; range: number }[];
    return rows.map((s) => ({ id: s.id, running: s.running, range: s.range }));
  }

  exec(id: string, argv: string[], opts: { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return this.run(['exec', id, '--', ...argv], opts);
  }

  ptyCommand(id: string, argv: string[]): { file: string; args: string[] } {
    return { file: this.bin, args: ['exec', '-t', '--env', 'TERM=xterm-256color', id, '--', ...argv] };
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
