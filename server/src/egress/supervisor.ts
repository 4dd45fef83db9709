// The egress proxy: Debian's squid as the server's own child process (never the system's squid
// service), with Dockside's configuration under <data>/egress/, and the relay that lends it to every
// sandbox. Restarted with a backoff when it dies, like the registry (registry/supervisor.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  chmodSync,
  chownSync,
  lchownSync,
  lstatSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { connect, createServer } from 'node:net';
import { egressPaths, type EgressPaths } from './paths';
import { startRelay, type Relay } from './relay';
import { refusalPages, squidConfig } from './squidConfig';

const SQUID_TEMPLATES = '/usr/share/squid/errors/templates';

export type EgressEvent =
  | { type: 'ready'; pid: number; port: number; socket: string; restarts: number }
  | { type: 'exited'; pid: number; code: number | null; signal: string | null; restartInMs: number; lastError?: string }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

export function describeEgressEvent(e: EgressEvent): string {
  switch (e.type) {
    case 'ready':
      return `squid ready (pid ${e.pid}) on 127.0.0.1:${e.port}, lent to sandboxes on ${e.socket}${e.restarts ? ` after ${e.restarts} restart(s)` : ''}`;
    case 'exited':
      return `squid (pid ${e.pid}) exited (${e.signal ?? `code ${e.code}`}); restarting in ${e.restartInMs} ms${e.lastError ? `. Last error: ${e.lastError}` : ''}`;
    case 'failed':
      return e.message;
    case 'stopped':
      return 'stopped';
  }
}

/** Another live supervisor serves this data dir: its socket serves the sandboxes, none is started. */
export class EgressBusyError extends Error {
  constructor(readonly pid: number) {
    super(`another Dockside egress proxy (pid ${pid}) already serves this data dir`);
  }
}

/** Data dirs this process already serves (the lock file only tells other processes). */
const running = new Set<string>();
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const STABLE_MS = 30_000;

export type EgressOptions = {
  /** Hosts sandboxes may reach (settings.ts validated the configured ones). */
  allow: string[];
  log?: (message: string) => void;
  bin?: string;
  cacheMiB?: number;
};

/**
 * Squid refuses to run as root. Under `npm start` the server is already the service user; a server run
 * as root (tests, a developer) runs squid as that user too (`nobody` without it), owning <data>/egress.
 */
function squidUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'));
  const [, , uid, gid] = users.find(([name]) => name === 'dockside') ?? users.find(([name]) => name === 'nobody')!;
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A new file in place of whatever was there. <data>/egress is the service user's: a link planted there
 * must not make a server run as root write through it (O_EXCL never follows one).
 */
function writeFresh(file: string, content: string | Buffer, mode = 0o644): void {
  rmSync(file, { force: true });
  writeFileSync(file, content, { flag: 'wx', mode });
}

/** Squid's last FATAL or ERROR line, without its time stamp. */
function fatal(output: string): string | undefined {
  return output
    .split('\n')
    .filter((l) => /FATAL|ERROR/.test(l))
    .at(-1)
    ?.replace(/^\S+ \S+\| /, '')
    .trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections there. */
function answers(where: { port: number; host: string } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(where);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => s.destroy());
  });
}

export class EgressSupervisor extends EventEmitter<{ event: [EgressEvent] }> {
  readonly paths: EgressPaths;
  private readonly bin: string;
  private readonly user = squidUser();
  private readonly service: string;
  private child?: ChildProcess;
  private port?: number;
  private relay?: Relay;
  private restarts = 0;
  private readyAt?: number;
  private timer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    dataDir: string,
    private readonly opts: EgressOptions,
  ) {
    super();
    const log = opts.log ?? ((m: string) => console.log(`egress: ${m}`));
    this.on('event', (e) => log(describeEgressEvent(e)));
    this.bin = opts.bin ?? '/usr/sbin/squid';
    this.paths = egressPaths(dataDir);
    this.service = `dockside${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 10)}`;
  }

  /** The port squid listens on (the host's loopback), while it runs. */
  get squidPort(): number | undefined {
    return this.child?.exitCode === null ? this.port : undefined;
  }

  /** The pid of another live supervisor whose relay still answers, if any. */
  private async holder(): Promise<number | undefined> {
    const lock = this.paths.lockFile;
    const pid = Number(existsSync(lock) ? readFileSync(lock, 'utf8').trim() : NaN);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
    try {
      process.kill(pid, 0);
    } catch {
      return undefined;
    }
    return (await answers({ path: this.paths.socket })) ? pid : undefined;
  }

  async start(): Promise<this> {
    if (!existsSync(this.bin)) throw new Error(`${this.bin} is missing (apt-get install squid)`);
    if (running.has(this.paths.root)) throw new EgressBusyError(process.pid);
    const holder = await this.holder();
    if (holder) throw new EgressBusyError(holder);
    const { root, cacheDir, logDir, errorDir, lockFile } = this.paths;
    for (const dir of [root, cacheDir, logDir, errorDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFresh(`${lockFile}.${process.pid}`, `${process.pid}\n`);
    renameSync(`${lockFile}.${process.pid}`, lockFile);
    running.add(root);
    // error_directory replaces squid's own: its English templates, and Dockside's refusals.
    for (const name of readdirSync(SQUID_TEMPLATES))
      writeFresh(path.join(errorDir, name), readFileSync(path.join(SQUID_TEMPLATES, name)));
    for (const [name, text] of Object.entries(refusalPages(this.opts.allow)))
      writeFresh(path.join(errorDir, name), text);
    if (this.user) this.handToSquidUser(this.user);
    this.stopping = false;
    try {
      await this.spawn();
      this.relay = await startRelay(this.paths.socket, () => this.squidPort);
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this;
  }

  private writeConfig(port: number): void {
    const config = squidConfig({ port, allow: this.opts.allow, paths: this.paths, cacheMiB: this.opts.cacheMiB });
    writeFresh(this.paths.config, config, 0o600);
    if (this.user) chownSync(this.paths.config, this.user.uid, this.user.gid);
  }

  /** Run as root: <data>/egress becomes squid's user's, and the data dir lets it through (o+x). */
  private handToSquidUser({ uid, gid }: { uid: number; gid: number }): void {
    // Never through a link: the service user owns this tree and must not make root chown elsewhere.
    const own = (p: string) => {
      lchownSync(p, uid, gid);
      if (lstatSync(p).isDirectory()) for (const name of readdirSync(p)) own(path.join(p, name));
    };
    own(this.paths.root);
    const dataDir = path.dirname(this.paths.root);
    chmodSync(dataDir, statSync(dataDir).mode | 0o001);
  }

  /**
   * `-n`: a service name of this data dir's own, which names squid's shared memory segments
   * (/dev/shm/<name>-*.shm): two Dockside servers, or the system's squid, never share them.
   */
  private squidArgv(...args: string[]): [string, string[]] {
    const drop = this.user ? [`--reuid=${this.user.uid}`, `--regid=${this.user.gid}`, '--clear-groups'] : [];
    return ['setpriv', [...drop, '--pdeathsig', 'KILL', '--', this.bin, '-n', this.service, ...args]];
  }

  /** Segments a killed squid of ours left behind: squid refuses to start over them. */
  private removeStaleSegments(): void {
    for (const name of readdirSync('/dev/shm'))
      if (name.startsWith(`${this.service}-`)) rmSync(path.join('/dev/shm', name), { force: true });
  }

  private async spawn(): Promise<void> {
    const port = await freePort();
    this.writeConfig(port);
    this.removeStaleSegments();
    // The cache's directory tree, once (squid -z).
    if (!existsSync(`${this.paths.cacheDir}/00`)) {
      const [cmd, args] = this.squidArgv('-N', '-z', '-f', this.paths.config);
      const z = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
      if (z.status !== 0) throw new Error(`squid -z failed: ${fatal(z.stderr || z.stdout) ?? `exit ${z.status}`}`);
    }
    // setpriv --pdeathsig: squid dies with us, even if we are SIGKILLed. Own process group: a Ctrl-C
    // reaches the server, which stops it in order.
    const [cmd, args] = this.squidArgv('-N', '-d', '1', '-f', this.paths.config);
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    this.child = child;
    this.port = port;
    this.readyAt = undefined;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', (err) => this.emit('event', { type: 'failed', message: err.message }));
    child.on('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      if (this.readyAt && Date.now() - this.readyAt > STABLE_MS) this.restarts = 0;
      const restartInMs = Math.min(10_000, 100 * 2 ** Math.min(this.restarts, 7));
      this.restarts++;
      const lastError = fatal(stderr);
      this.emit('event', { type: 'exited', pid: child.pid ?? 0, code, signal, restartInMs, lastError });
      this.timer = setTimeout(() => {
        if (this.stopping) return;
        this.spawn().catch((err: Error) => this.emit('event', { type: 'failed', message: err.message }));
      }, restartInMs);
      this.timer.unref();
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && this.child === child && child.exitCode === null && !this.stopping) {
      if (await answers({ port, host: '127.0.0.1' })) {
        this.readyAt = Date.now();
        this.emit('event', {
          type: 'ready',
          pid: child.pid ?? 0,
          port,
          socket: this.paths.socket,
          restarts: this.restarts,
        });
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (this.stopping || this.child !== child) return;
    const why = fatal(stderr);
    throw new Error(`squid did not answer on 127.0.0.1:${port}${why ? `: ${why}` : ''}`);
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    if (this.relay) {
      await this.relay.close();
      this.relay = undefined;
      rmSync(this.paths.socket, { force: true });
    }
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null)
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
        c.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill('SIGINT'); // squid's fast shutdown: no shutdown_lifetime wait for open connections
      });
    if (running.delete(this.paths.root))
      try {
        if (readFileSync(this.paths.lockFile, 'utf8').trim() === String(process.pid)) rmSync(this.paths.lockFile);
      } catch {
        // no lock: nothing to release
      }
    this.emit('event', { type: 'stopped' });
  }
}
