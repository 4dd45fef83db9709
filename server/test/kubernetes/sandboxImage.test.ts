// The sandbox as an OCI image (sandboxImage.ts): built from a root filesystem and the built agent and
// init, pushed to the local registry, then pulled and run by a real engine — the way a cluster's nodes
// would pull it. A small root filesystem (busybox and the host's C library) stands in for the base image
// to keep it quick; the set-up builds the real one the same way.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { AgentClient } from '../../src/kubernetes/agentClient';
import { buildSandboxImage } from '../../src/kubernetes/sandboxImage';
import { NATIVE_BUILD_DIR } from '../../src/paths';
import { registryPaths } from '../../src/registry/paths';
import { registryAnswers } from '../../src/registry/probe';
import { RegistrySupervisor } from '../../src/registry/supervisor';
import { busyboxTar } from '../support/images';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const REPO = `dockside-test/sandbox-${process.pid}`;
const id = `k8simg-${process.pid.toString(36)}`;
let rootfs: string;
let supervisor: RegistrySupervisor | undefined;
const runtime = new NativeRuntime(SHARED_DATA_DIR);

describe.runIf(sandboxesAvailable())('the sandbox image for Kubernetes', () => {
  beforeAll(async () => {
    rootfs = mkdtempSync(path.join(os.tmpdir(), 'sandbox-rootfs-'));
    execFileSync('tar', ['-C', rootfs, '-x'], { input: busyboxTar() });
    mkdirSync(path.join(rootfs, 'workspace'));
    // The agent links against the C library the real base image has: give the small one the host's.
    const libs = execFileSync('ldd', [path.join(NATIVE_BUILD_DIR, 'dockside-agent')], { encoding: 'utf8' })
      .split('\n')
      .flatMap((l) => /(\/\S+)\s+\(0x/.exec(l)?.[1] ?? []);
    for (const lib of libs) {
      mkdirSync(path.join(rootfs, path.dirname(lib)), { recursive: true });
      copyFileSync(lib, path.join(rootfs, lib));
    }
    // Sandboxes pull from the registry of their data dir: run it unless a server already does.
    if (!(await registryAnswers(registryPaths(SHARED_DATA_DIR).pushSocket)))
      supervisor = await new RegistrySupervisor(SHARED_DATA_DIR, { upstream: null, log: () => {} }).start();
    await runtime.create(id, 15_000 + (process.pid % 1000), {
      memoryBytes: 2 * 1024 ** 3,
      pids: 4096,
      cpus: 1,
      diskBytes: 6 * 1024 ** 3,
    });
  });

  afterAll(async () => {
    await runtime.destroy(id).catch(() => {});
    await supervisor?.stop();
    rmSync(rootfs, { recursive: true, force: true });
  });

  it('is pushed once, pulled by an engine, and runs the agent as its entrypoint', async () => {
    const first = await buildSandboxImage({ dataDir: SHARED_DATA_DIR, rootfs, repository: REPO, log: () => {} });
    expect(first.pushedBytes).toBeGreaterThan(0);
    // Nothing changed: nothing is pushed again.
    const again = await buildSandboxImage({ dataDir: SHARED_DATA_DIR, rootfs, repository: REPO, log: () => {} });
    expect(again).toEqual({ ...first, pushedBytes: 0 });

    const image = `127.0.0.1:5000/${REPO}:latest`;
    const pull = await runtime.exec(id, ['docker', 'pull', image], { timeoutMs: 60_000 });
    expect(pull.stderr).toBe('');
    expect(pull.code).toBe(0);
    const files = await runtime.exec(id, [
      'docker',
      'run',
      '--rm',
      '--entrypoint',
      '/bin/ls',
      image,
      '/usr/local/bin/dockside-agent',
      '/usr/local/sbin/dockside-init',
      '/www/index.html',
    ]);
    expect(files.stdout.toString().split('\n').filter(Boolean)).toEqual([
      '/usr/local/bin/dockside-agent',
      '/usr/local/sbin/dockside-init',
      '/www/index.html',
    ]);
    // The entrypoint is the agent's pod mode, which needs the pod's secret.
    const run = await runtime.exec(id, ['docker', 'run', '--rm', image]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('DOCKSIDE_AGENT_TOKEN_FILE is not set');
  }, 300_000);

  it('starts as a pod would: dockside-init runs the engine, the agent answers, the mirror is forwarded by name', async () => {
    // The set-up's image (npm start pushes it); a privileged container on a network of its own inside the
    // sandbox stands in for the pod (no cluster here), and a busybox server named `mirror` for the registry.
    const image = '127.0.0.1:5000/dockside/sandbox:latest';
    const sh = (script: string) => runtime.exec(id, ['sh', '-c', script], { timeoutMs: 240_000 });
    const pulled = await sh(`docker pull -q ${image}`);
    expect(pulled.stderr, 'the set-up pushes dockside/sandbox (npm run setup)').toBe('');
    const secret = randomBytes(24).toString('hex');
    const setup = await sh(
      [
        `mkdir -p /tmp/pod-secret && printf %s ${secret} > /tmp/pod-secret/token`,
        'docker network create --subnet 10.99.0.0/24 podnet',
        'docker run -d --network podnet --name mirror busybox sh -c "mkdir -p /www/v2 && echo mirror-ok > /www/v2/index.html && httpd -f -p 80 -h /www"',
        `docker run -d --name pod --network podnet --privileged -p 127.0.0.1:7070:7070 -v /tmp/pod-secret:/run/secrets/dockside-agent:ro -v podlib:/var/lib/docker -e DOCKSIDE_AGENT_TOKEN_FILE=/run/secrets/dockside-agent/token -e DOCKSIDE_REGISTRY_MIRROR=http://mirror:80 ${image}`,
      ].join(' && '),
    );
    expect(setup.code, setup.stderr).toBe(0);
    const relay = net.createServer((conn) => {
      conn.on('error', () => {});
      void runtime.connect(id, 7070).then(
        (inside) => {
          inside.on('error', () => conn.destroy());
          conn.pipe(inside).pipe(conn);
        },
        () => conn.destroy(),
      );
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    try {
      const port = (relay.address() as net.AddressInfo).port;
      const agent = new AgentClient({ host: '127.0.0.1', port, token: secret });
      let version: { code: number; stdout: Buffer } | undefined;
      for (let i = 0; i < 150 && version?.code !== 0; i++) {
        version = await agent
          .run(['exec', 'docker', 'version', '--format', '{{.Server.Version}}'])
          .catch(() => undefined);
        if (version?.code !== 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(version?.stdout.toString()).toMatch(/^\d+\.\d+/);
      const init = await agent.run(['exec', 'cat', '/proc/1/comm']);
      expect(init.stdout.toString().trim()).toBe('dockside-init');
      // The engine's mirror, 127.0.0.1:5000 in the image's daemon.json, reaches the named service.
      const mirror = await agent.run(['exec', 'curl', '-s', 'http://127.0.0.1:5000/v2/']);
      expect(mirror.stdout.toString()).toContain('mirror-ok');
      const wrong = new AgentClient({ host: '127.0.0.1', port, token: 'x'.repeat(48) });
      expect((await wrong.run(['exec', 'true'])).code).toBe(126);
    } finally {
      relay.close();
    }
  }, 600_000);
});
