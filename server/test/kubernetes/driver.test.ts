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
import { FakeCluster, FORWARD_TEST_PORT } from './fakeApiServer';

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

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
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
    // The agent's forwards (a pod's registry mirror and proxy): a port relayed to a name and port.
    const forwarded = await driver.exec(id, ['curl', '-s', `http://127.0.0.1:${FORWARD_TEST_PORT}/`]);
    expect(forwarded.stdout.toString()).toContain('hello from a sandbox');

    await driver.destroy(id);
    expect((await driver.list()).find((s) => s.id === id)).toBeUndefined();
    expect(cluster.sandboxOf(podName(id))).toBeUndefined();
    expect((await new NativeRuntime(SHARED_DATA_DIR).list()).map((s) => s.id)).not.toContain(id);
    expect(lost).toEqual([]);
  });

  it('notices a pod deleted behind its back, even through a stalled watch the API server compacted past', async () => {
    const id = newId();
    await driver.create(id, 1, LIMITS);
    await driver.openSession(id, 'shell', ['bash', '--norc', '-i'], { cols: 80, rows: 24 });
    const terminal = await attach(id, 'shell');
    const restarts = driver.watchRestarts;

    // The watch goes quiet (KubeSpawner #209), the pod is deleted meanwhile, and its event compacted away:
    // only restarting on silence, getting 410 Gone and relisting can tell the server.
    cluster.stallWatches();
    cluster.keepHistory = false;
    await cluster.deletePod(podName(id));
    await until('the loss reported', () => lost.find((l) => l.id === id), 20_000);
    cluster.keepHistory = true;
    expect(lost.find((l) => l.id === id)).toEqual({ id, reason: 'deleted' });
    expect(driver.watchRestarts.silent).toBeGreaterThan(restarts.silent);
    expect(driver.watchRestarts.gone).toBeGreaterThan(restarts.gone);
    // The learner's terminal ends (the holder went away), and the sandbox is no more.
    await until('the terminal ending', () => terminal.exited() !== undefined);
    expect(terminal.exited()).toBeNull();
    expect((await driver.list()).map((s) => s.id)).not.toContain(id);
    await expect(driver.exec(id, ['true'])).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('keeps its watch across dropped connections, resuming from the version it had', async () => {
    cluster.dropWatches();
    await until('the watch back', () => cluster.openWatches > 0);
    const resumed = cluster.requests.filter((r) => /[?&]watch=true/.test(r)).at(-1)!;
    expect(Number(new URLSearchParams(resumed.split('?')[1]).get('resourceVersion'))).toBeGreaterThan(1);
    // Readiness arrives through the watch: a sandbox still starts.
    const id = newId();
    const t0 = Date.now();
    await driver.create(id, 1, LIMITS);
    console.log(`kubernetes driver (fake cluster): a second cold create ${Date.now() - t0} ms`);
    expect((await driver.list()).find((s) => s.id === id)?.running).toBe(true);
    await driver.destroy(id);
  });

  it('says what a full quota, a full cluster and an image it cannot pull mean, and leaves nothing behind', async () => {
    const before = (await driver.list()).length;
    cluster.quotaPods = 0;
    const quota = await driver.create(newId(), 1, LIMITS).catch((e: unknown) => e as Error & { kind: string });
    cluster.quotaPods = undefined;
    expect(quota).toMatchObject({ kind: 'no_space' });
    expect((quota as Error).message).toMatch(/^the cluster's quota for sandboxes is used up \(.*exceeded quota/);

    cluster.unschedulable = true;
    const full = await driver.create(newId(), 1, LIMITS).catch((e: unknown) => e as Error);
    cluster.unschedulable = false;
    expect((full as Error).message).toMatch(/^the cluster has no room for another sandbox \(0\/3 nodes are available/);

    cluster.imagePullFails = true;
    const pull = await driver.create(newId(), 1, LIMITS).catch((e: unknown) => e as Error);
    cluster.imagePullFails = false;
    expect((pull as Error).message).toMatch(/^the cluster cannot pull dockside\/sandbox:latest \(failed to pull/);

    await until('the failed pods gone', async () => (await driver.list()).length === before || undefined);
    expect((await driver.list()).length).toBe(before);
  });

  it('names the cause when the API server refuses the server itself', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ ...cluster.kubeconfig(), users: [{ name: 'dockside', token: 'not-the-token' }] });
    const stranger = new KubernetesRuntime({
      kubeConfig: kc,
      namespace: NAMESPACE,
      podTemplate: 'dockside-sandbox',
      agentKey: 'x',
      socketDir,
    });
    await expect(stranger.list()).rejects.toThrow(/^the server may not list pods in the sandbox namespace/);
    stranger.close();
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
