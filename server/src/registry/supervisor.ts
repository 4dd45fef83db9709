// The local registry that stands in for Docker Hub: Debian's docker-registry (the CNCF distribution
// registry), supervised as child processes. Two instances share one storage: a read-write one on a
// private unix socket for setup to push lesson images, and a read-only one whose socket is lent to every
// sandbox (native/ binds registry/forward/ into it; dockside-init serves it on the sandbox's 127.0.0.1:5000).
// Nothing listens on a network interface.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Server } from 'node:https';
import path from 'node:path';
import { ensureHubCertificate, startHub } from './hub';

export type RegistryPaths = {
  storage: string;
  pushSocket: string;
  mirrorSocket: string;
  hubSocket: string;
  configDir: string;
  tlsDir: string;
};

export function registryPaths(dataDir: string): RegistryPaths {
  const root = path.join(dataDir, 'registry');
  return {
    storage: path.join(root, 'storage'),
    pushSocket: path.join(root, 'run', 'push.sock'),
    mirrorSocket: path.join(root, 'forward', '5000.sock'),
    hubSocket: path.join(root, 'forward', '443.sock'),
    configDir: path.join(root, 'config'),
    tlsDir: path.join(root, 'tls'),
  };
}

type Instance = {
  name: 'push' | 'mirror';
  socket: string;
  config: string;
  mode: number;
  child?: ChildProcess;
  restarts: number;
};

function config(storage: string, socket: string, readonly: boolean): string {
  return [
    'version: 0.1',
    'log: { level: warn, formatter: text }',
    'storage:',
    `  filesystem: { rootdirectory: ${JSON.stringify(storage)} }`,
    `  maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: ${readonly} } }`,
    '  delete: { enabled: false }',
    'http:',
    '  net: unix',
    `  addr: ${JSON.stringify(socket)}`,
    '',
  ].join('\n');
}

/** GET /v2/ on a registry's unix socket: true when it answers. */
export function registryAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/v2/', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export class RegistrySupervisor {
  private instances: Instance[];
  private stopping = false;
  private hub?: Server;
  readonly paths: RegistryPaths;

  constructor(
    dataDir: string,
    private readonly log: (message: string) => void = (m) => console.log(`registry: ${m}`),
    private readonly bin = process.env.DOCKSIDE_REGISTRY_BIN ?? '/usr/bin/docker-registry',
  ) {
    this.paths = registryPaths(dataDir);
    const { storage, pushSocket, mirrorSocket, configDir } = this.paths;
    this.instances = [
      { name: 'push', socket: pushSocket, config: path.join(configDir, 'push.yml'), mode: 0o600, restarts: 0 },
      { name: 'mirror', socket: mirrorSocket, config: path.join(configDir, 'mirror.yml'), mode: 0o666, restarts: 0 },
    ];
    for (const dir of [storage, path.dirname(pushSocket), configDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Sandboxes' roots traverse to the mirror's socket through this read-only bind.
    mkdirSync(path.dirname(mirrorSocket), { recursive: true, mode: 0o755 });
    chmodSync(path.dirname(mirrorSocket), 0o755);
    for (const i of this.instances) writeFileSync(i.config, config(storage, i.socket, i.name === 'mirror'));
  }

  /** Starts both instances and resolves once they answer. */
  async start(): Promise<void> {
    if (!existsSync(this.bin)) throw new Error(`${this.bin} is missing (apt-get install docker-registry)`);
    this.stopping = false;
    for (const i of this.instances) this.spawn(i);
    await Promise.all(this.instances.map((i) => this.waitFor(i)));
    const tls = ensureHubCertificate(this.paths.tlsDir, path.dirname(this.paths.mirrorSocket));
    this.hub = await startHub(this.paths.hubSocket, this.paths.mirrorSocket, tls);
  }

  private spawn(i: Instance): void {
    rmSync(i.socket, { force: true });
    const child = spawn(this.bin, ['serve', i.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    i.child = child;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    child.on('exit', (code, signal) => {
      if (this.stopping || i.child !== child) return;
      i.restarts++;
      const delay = Math.min(10_000, 200 * 2 ** Math.min(i.restarts, 6));
      this.log(
        `${i.name} instance exited (${signal ?? code}); restarting in ${delay} ms. ${stderr.trim().split('\n').at(-1) ?? ''}`,
      );
      setTimeout(() => {
        if (!this.stopping) {
          this.spawn(i);
          void this.waitFor(i).catch((err) => this.log((err as Error).message));
        }
      }, delay).unref();
    });
  }

  private async waitFor(i: Instance): Promise<void> {
    for (let n = 0; n < 200; n++) {
      if (existsSync(i.socket) && (await registryAnswers(i.socket))) {
        chmodSync(i.socket, i.mode);
        i.restarts = 0;
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the ${i.name} registry did not answer on ${i.socket}`);
  }

  pid(name: 'push' | 'mirror'): number | undefined {
    return this.instances.find((i) => i.name === name)?.child?.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await new Promise<void>((resolve) => (this.hub ? this.hub.close(() => resolve()) : resolve()));
    this.hub = undefined;
    await Promise.all(
      this.instances.map(
        (i) =>
          new Promise<void>((resolve) => {
            const c = i.child;
            if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  }
}
