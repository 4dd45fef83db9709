// The local registry that stands in for Docker Hub: Debian's docker-registry (the CNCF distribution
// registry 2.8), supervised as child processes. Two instances share one storage: a read-write one on a
// private unix socket for setup to push lesson images, and a read-only one whose socket is lent to every
// sandbox (native/ binds registry/forward/ into it; dockside-init serves `5000.sock` on the sandbox's
// 127.0.0.1:5000, its Docker Hub mirror). The hub (./hub.ts) answers as registry-1.docker.io for what the
// mirror lacks. With DOCKSIDE_REGISTRY_UPSTREAM a third instance, in distribution's proxy mode with its own
// storage, is the pull-through cache the hub consults for names the catalogue does not carry; it is
// optional (an upstream down at start makes it exit, and it is restarted like the others until it stays).
// Nothing listens on a network interface.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import path from 'node:path';
import { registryConfig } from './config';
import { startHub } from './hub';
import { ensureHubCertificate } from './hubCertificate';
import { registryPaths, type RegistryPaths } from './paths';
import { registryAnswers } from './probe';
import { upstreamFromEnv, type Upstream } from './upstream';

export { registryAnswers } from './probe';
export { registryPaths, type RegistryPaths } from './paths';

export type InstanceName = 'push' | 'mirror' | 'proxy';

/** What the supervisor reports, for the server's logs. */
export type RegistryEvent =
  | { type: 'ready'; instance: InstanceName; pid: number; socket: string; restarts: number }
  | {
      type: 'exited';
      instance: InstanceName;
      pid: number;
      code: number | null;
      signal: string | null;
      restartInMs: number;
      lastError?: string;
    }
  | { type: 'failed'; instance: InstanceName; message: string }
  | { type: 'hub'; socket: string }
  | { type: 'stopped' };

export function describeRegistryEvent(e: RegistryEvent): string {
  switch (e.type) {
    case 'ready':
      return `${e.instance} instance ready (pid ${e.pid}) on ${e.socket}${e.restarts ? ` after ${e.restarts} restart(s)` : ''}`;
    case 'exited':
      return `${e.instance} instance (pid ${e.pid}) exited (${e.signal ?? `code ${e.code}`}); restarting in ${e.restartInMs} ms${e.lastError ? `. Last error: ${e.lastError}` : ''}`;
    case 'failed':
      return `${e.instance} instance: ${e.message}`;
    case 'hub':
      return `Docker Hub stand-in ready on ${e.socket}`;
    case 'stopped':
      return 'stopped';
  }
}

/** Another live supervisor serves this data dir: reuse its sockets instead of starting a second one. */
export class RegistryBusyError extends Error {
  constructor(readonly pid: number) {
    super(`another Dockside registry supervisor (pid ${pid}) already serves this data dir`);
  }
}

type Instance = {
  name: InstanceName;
  socket: string;
  storage: string;
  config: string;
  mode: number;
  child?: ChildProcess;
  restarts: number;
  readyAt?: number;
  timer?: NodeJS.Timeout;
};

const READY_TIMEOUT_MS = 10_000;
const PROXY_READY_TIMEOUT_MS = 3_000;
/** Data dirs this process already serves (the lock file only tells other processes). */
const running = new Set<string>();
const STOP_GRACE_MS = 3_000;
/** An instance that stayed up this long has its backoff reset. */
const STABLE_MS = 30_000;

export type SupervisorOptions = {
  log?: (message: string) => void;
  bin?: string;
  /** The pull-through upstream; default: DOCKSIDE_REGISTRY_UPSTREAM (and its credentials), if set. */
  upstream?: Upstream | null;
};

export class RegistrySupervisor extends EventEmitter<{ event: [RegistryEvent] }> {
  readonly paths: RegistryPaths;
  private readonly instances: Instance[];
  private readonly bin: string;
  private stopping = false;
  private hub?: Server;
  readonly upstream: Upstream | null;

  constructor(dataDir: string, logOrOptions: SupervisorOptions | ((message: string) => void) = {}) {
    super();
    const opts = typeof logOrOptions === 'function' ? { log: logOrOptions } : logOrOptions;
    const log = opts.log ?? ((m: string) => console.log(`registry: ${m}`));
    // An upstream that stays down makes the proxy exit every ten seconds: its first exit is news, the rest not.
    let proxyDown = false;
    this.on('event', (e) => {
      if ('instance' in e && e.instance === 'proxy') {
        const repeated = proxyDown && e.type !== 'ready';
        proxyDown = e.type !== 'ready';
        if (repeated) return;
      }
      log(describeRegistryEvent(e));
    });
    this.bin = opts.bin ?? process.env.DOCKSIDE_REGISTRY_BIN ?? '/usr/bin/docker-registry';
    this.upstream = opts.upstream === undefined ? upstreamFromEnv() : opts.upstream;
    this.paths = registryPaths(dataDir);
    const { pushSocket, mirrorSocket, proxySocket, storage, proxyStorage, configDir } = this.paths;
    const instance = (name: InstanceName, socket: string, store: string, mode: number): Instance => ({
      name,
      socket,
      storage: store,
      config: path.join(configDir, `${name}.yml`),
      mode,
      restarts: 0,
    });
    this.instances = [instance('push', pushSocket, storage, 0o600), instance('mirror', mirrorSocket, storage, 0o666)];
    if (this.upstream) this.instances.push(instance('proxy', proxySocket, proxyStorage, 0o600));
  }

  /** The pid of a live supervisor holding this data dir's lock, if any other than this process. */
  static holder(dataDir: string): number | undefined {
    const lock = registryPaths(dataDir).lockFile;
    const pid = Number(existsSync(lock) ? readFileSync(lock, 'utf8').trim() : NaN);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  private prepare(): void {
    const { root, runDir, configDir, forwardDir } = this.paths;
    for (const dir of [root, runDir, configDir, ...this.instances.map((i) => i.storage)])
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Sandboxes see this directory through a read-only bind: sockets 0666, the CA 0644, nothing else.
    mkdirSync(forwardDir, { recursive: true, mode: 0o755 });
    chmodSync(forwardDir, 0o755);
    const secret = randomBytes(16).toString('hex');
    for (const i of this.instances)
      writeFileSync(
        i.config,
        registryConfig({
          storage: i.storage,
          socket: i.socket,
          readonly: i.name === 'mirror',
          secret,
          proxy: i.name === 'proxy' ? this.upstream! : undefined,
        }),
        // The proxy's holds the upstream's password.
        { mode: 0o600 },
      );
    // A data dir that had an upstream before keeps no stale proxy config (it holds a password).
    if (!this.upstream) rmSync(path.join(configDir, 'proxy.yml'), { force: true });
  }

  /**
   * Starts the instances and the hub; resolves once push, mirror and hub answer, and the proxy has
   * answered or exited once (an upstream down now must not keep the catalogue from serving).
   */
  async start(): Promise<this> {
    if (!existsSync(this.bin)) throw new Error(`${this.bin} is missing (apt-get install docker-registry)`);
    if (running.has(this.paths.root)) throw new RegistryBusyError(process.pid);
    const holder = RegistrySupervisor.holder(path.dirname(this.paths.root));
    // A holder whose push socket no longer answers is gone (or its pid was reused): take over.
    if (holder && (await registryAnswers(this.paths.pushSocket))) throw new RegistryBusyError(holder);
    this.prepare();
    // Replaced, not rewritten: the lock may be another user's (root's setup, the server's user).
    writeFileSync(`${this.paths.lockFile}.${process.pid}`, `${process.pid}\n`);
    renameSync(`${this.paths.lockFile}.${process.pid}`, this.paths.lockFile);
    running.add(this.paths.root);
    this.stopping = false;
    try {
      for (const i of this.instances) this.spawn(i);
      await Promise.all(
        this.instances.map((i) =>
          i.name === 'proxy'
            ? // An upstream that drops packets keeps the cache from answering: the catalogue waits no longer.
              this.waitFor(i, PROXY_READY_TIMEOUT_MS).catch((err: Error) =>
                this.emit('event', { type: 'failed', instance: i.name, message: err.message }),
              )
            : this.waitFor(i),
        ),
      );
      const tls = ensureHubCertificate(this.paths.tlsDir, this.paths.forwardCa);
      this.hub = await startHub(this.paths.hubSocket, this.paths.mirrorSocket, tls, {
        upstream: this.upstream ? { ...this.upstream, socket: this.paths.proxySocket } : undefined,
      });
      this.emit('event', { type: 'hub', socket: this.paths.hubSocket });
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this;
  }

  private spawn(i: Instance): void {
    rmSync(i.socket, { force: true });
    // setpriv --pdeathsig: the registry dies with us, even if we are SIGKILLed, so none is left orphaned.
    // The umask keeps storage the owner's alone and lets the socket be born open enough (sandboxes need
    // to connect to the mirror's); waitFor sets its exact mode. Only group and other bits: the owner
    // must keep x on the directories it creates.
    const umask = (~i.mode & 0o077).toString(8).padStart(4, '0');
    const child = spawn(
      'sh',
      ['-c', `umask ${umask}; exec setpriv --pdeathsig KILL -- "$@"`, 'sh', this.bin, 'serve', i.config],
      // Own process group: a Ctrl-C on the terminal reaches the server, which stops them in order.
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    i.child = child;
    i.readyAt = undefined;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', (err) => this.emit('event', { type: 'failed', instance: i.name, message: err.message }));
    child.on('exit', (code, signal) => {
      if (this.stopping || i.child !== child) return;
      if (i.readyAt && Date.now() - i.readyAt > STABLE_MS) i.restarts = 0;
      const restartInMs = Math.min(10_000, 100 * 2 ** Math.min(i.restarts, 7));
      i.restarts++;
      const lines = stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('response completed with error')); // a client's 404, not the crash
      // A panic's own line says why (e.g. the upstream refused), not the stack trace after it.
      const lastError = (lines.find((l) => l.startsWith('panic: ')) ?? lines.at(-1))?.replace(/^time="[^"]*" /, '');
      this.emit('event', {
        type: 'exited',
        instance: i.name,
        pid: child.pid ?? 0,
        code,
        signal,
        restartInMs,
        lastError,
      });
      i.timer = setTimeout(() => {
        if (this.stopping) return;
        this.spawn(i);
        this.waitFor(i).catch((err: Error) =>
          this.emit('event', { type: 'failed', instance: i.name, message: err.message }),
        );
      }, restartInMs);
      i.timer.unref();
    });
  }

  private async waitFor(i: Instance, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const child = i.child;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && i.child === child && child?.exitCode === null && !this.stopping) {
      if (existsSync(i.socket) && (await registryAnswers(i.socket))) {
        chmodSync(i.socket, i.mode);
        i.readyAt = Date.now();
        this.emit('event', {
          type: 'ready',
          instance: i.name,
          pid: child.pid ?? 0,
          socket: i.socket,
          restarts: i.restarts,
        });
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (this.stopping || i.child !== child) return;
    throw new Error(
      i.name === 'proxy'
        ? `the pull-through cache of ${this.upstream!.url} did not start (is the upstream reachable?); retrying`
        : `the ${i.name} registry did not answer on ${i.socket}`,
    );
  }

  pid(name: InstanceName): number | undefined {
    return this.instances.find((i) => i.name === name)?.child?.pid;
  }

  /** Whether push, mirror and hub answer right now (the proxy depends on an upstream beyond our control). */
  async healthy(): Promise<boolean> {
    const needed = this.instances.filter((i) => i.name !== 'proxy');
    const answers = await Promise.all(needed.map((i) => registryAnswers(i.socket)));
    return answers.every(Boolean) && !!this.hub?.listening;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const hub = this.hub;
    this.hub = undefined;
    if (hub) {
      hub.closeAllConnections();
      await new Promise<void>((resolve) => hub.close(() => resolve()));
    }
    await Promise.all(
      this.instances.map((i) => {
        clearTimeout(i.timer);
        const c = i.child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        return new Promise<void>((resolve) => {
          const kill = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
          c.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          c.kill('SIGTERM');
        });
      }),
    );
    running.delete(this.paths.root);
    try {
      if (readFileSync(this.paths.lockFile, 'utf8').trim() === String(process.pid)) rmSync(this.paths.lockFile);
    } catch {
      // no lock: nothing to release
    }
    this.emit('event', { type: 'stopped' });
  }
}
