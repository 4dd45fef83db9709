// The Kubernetes driver against a REAL cluster: runs only when KUBECONFIG is set, and is reported skipped
// otherwise (no cluster can be installed here; driver.test.ts runs the same path against the fake API
// server). The cluster must have deploy/kubernetes/overlays/<variant> applied and the sandbox image in
// its registry, and this test must run where pod IPs are reachable and the NetworkPolicies admit it: in
// a pod labelled app.kubernetes.io/name=dockside-server in the dockside namespace (a checkout there, and
// a kubeconfig for the dockside-server service account copied in):
//   KUBECONFIG=/tmp/kubeconfig npx vitest run --project integration server/test/kubernetes/contract.test.ts
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeldSession } from '../../src/engine/heldSession';
import { KubernetesRuntime } from '../../src/kubernetes/kubernetesRuntime';
import { podName } from '../../src/kubernetes/podSpec';

const NAMESPACE = process.env.DOCKSIDE_K8S_NAMESPACE ?? 'dockside-sandboxes';
const LIMITS = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 4 * 1024 ** 3 };

describe.runIf(Boolean(process.env.KUBECONFIG))('the Kubernetes driver against a real cluster (KUBECONFIG)', () => {
  let driver: KubernetesRuntime;
  let api: CoreV1Api;
  let socketDir: string;
  const lost: string[] = [];
  const id = `contract-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    api = kc.makeApiClient(CoreV1Api);
    socketDir = mkdtempSync(path.join(os.tmpdir(), 'k8s-contract-'));
    driver = new KubernetesRuntime({
      kubeConfig: kc,
      namespace: NAMESPACE,
      podTemplate: process.env.DOCKSIDE_K8S_POD_TEMPLATE ?? 'dockside-sandbox',
      agentKey: randomBytes(32),
      socketDir,
    });
    driver.onLost((sandboxId) => lost.push(sandboxId));
    await driver.start();
  });

  afterAll(async () => {
    await driver?.destroy(id).catch(() => {});
    driver?.close();
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
  });

  it('starts a pod whose engine, terminal and files answer through the agent', async () => {
    const t0 = Date.now();
    await driver.create(id, 1, LIMITS);
    console.log(`contract: create to a ready sandbox pod ${Date.now() - t0} ms`);
    const version = await driver.exec(id, ['docker', 'version', '--format', '{{.Server.Version}}']);
    expect(version.code).toBe(0);
    expect((await new Docker({ socketPath: driver.dockerSocket(id) }).version()).Version).toBe(
      version.stdout.toString().trim(),
    );
    expect((await driver.file(id, 'write', ['/workspace/a.txt'], { stdin: Buffer.from('x') })).code).toBe(0);
    await driver.openSession(id, 'c', ['bash', '--norc', '-i'], { cols: 80, rows: 24 });
    let text = '';
    const s = await HeldSession.attach(driver.sessionSocket(id, 'c'), {
      scrollback: (d) => (text += d),
      live: () => {},
      output: (d) => (text += d),
      exit: () => {},
    });
    s.write('echo contract-$((40+2))\n');
    for (let i = 0; i < 100 && !text.includes('contract-42'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(text).toContain('contract-42');
    s.detach();
  }, 300_000);

  it('notices the pod deleted behind its back', async () => {
    await api.deleteNamespacedPod({ name: podName(id), namespace: NAMESPACE });
    for (let i = 0; i < 600 && !lost.includes(id); i++) await new Promise((r) => setTimeout(r, 100));
    expect(lost).toContain(id);
  }, 120_000);
});
