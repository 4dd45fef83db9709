// A learner on a real Dockside server whose sandboxes are Kubernetes pods (DOCKSIDE_RUNTIME=kubernetes),
// the cluster being the fake API server of fakeApiServer.ts with real sandboxes as pods: Docker_Intro's
// first three steps pass through the pod's agent, the Layers view lists what they pulled, a pod deleted
// behind the server's back ends the learner's sandbox as lost, and a full quota reaches the page in words. No real cluster is involved (contract.test.ts runs against one).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLessons } from '@dockside/lessons';
import type { SandboxView, ServerToClientEvents } from '@dockside/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { MANIFESTS_DIR, renderKustomization } from '../../src/kubernetes/kustomize';
import { podName, type PodTemplate } from '../../src/kubernetes/podSpec';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';
import { FakeCluster } from './fakeApiServer';

type Result = Parameters<ServerToClientEvents['checks:result']>[0];

const NAMESPACE = 'dockside-sandboxes';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-k8s-server-'));
let cluster: FakeCluster;
let server: RunningServer;

function nextResult(socket: LearnerSocket, stepId: string, until: (r: Result) => boolean, ms: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    let last: Result | undefined;
    const timer = setTimeout(() => {
      socket.off('checks:result', on);
      reject(new Error(`step ${stepId}: checks did not settle: ${JSON.stringify(last?.results)}`));
    }, ms);
    const on = (r: Result) => {
      if (r.stepId !== stepId) return;
      last = r;
      if (until(r)) {
        clearTimeout(timer);
        socket.off('checks:result', on);
        resolve(r);
      }
    };
    socket.on('checks:result', on);
  });
}

async function until<T>(f: () => T | undefined, ms = 10_000): Promise<T | undefined> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    const v = f();
    if (v) return v;
  }
  return undefined;
}

describe.runIf(sandboxesAvailable())(
  'a learner on a server whose sandboxes are Kubernetes pods (fake API server)',
  () => {
    beforeAll(async () => {
      const template = renderKustomization(path.join(MANIFESTS_DIR, 'overlays', 'userns')).find(
        (o) => o.kind === 'PodTemplate',
      ) as PodTemplate;
      cluster = new FakeCluster({
        runtime: new NativeRuntime(SHARED_DATA_DIR),
        namespace: NAMESPACE,
        podTemplate: template,
      });
      await cluster.start();
      // A kubeconfig file as an operator's KUBECONFIG would be.
      const kc = cluster.kubeconfig();
      const file = path.join(dir, 'kubeconfig.json');
      writeFileSync(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: kc.clusters.map((c) => ({
            name: c.name,
            cluster: { server: c.server, 'insecure-skip-tls-verify': true },
          })),
          users: kc.users.map((u) => ({ name: u.name, user: { token: u.token } })),
          contexts: kc.contexts.map((c) => ({ name: c.name, context: { cluster: c.cluster, user: c.user } })),
          'current-context': kc.currentContext,
        }),
      );
      server = await startServer({
        DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
        DATABASE_URL: `file:${path.join(dir, 'db.sqlite')}`,
        DOCKSIDE_POOL_SIZE: '0',
        DOCKSIDE_RUNTIME: 'kubernetes',
        DOCKSIDE_K8S_NAMESPACE: NAMESPACE,
        KUBECONFIG: file,
      });
    });

    afterAll(async () => {
      await server?.stop();
      await cluster?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("completes Docker_Intro's first three steps in a pod, and sees its layers", async () => {
      const lesson = loadLessons().find((l) => l.id === 'Docker_Intro')!;
      const learner = await Learner.join(server.url);
      const socket = learner.socket();
      try {
        const sandbox = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: lesson.id });
        if (!sandbox.ok) throw new Error(sandbox.error.message);
        // The sandbox is a pod the server asked the cluster for.
        expect(cluster.requests.some((r) => r.startsWith(`POST /api/v1/namespaces/${NAMESPACE}/pods`))).toBe(true);
        // Labelled with its learner, for an operator's kubectl.
        await until(() => cluster.pod(podName(sandbox.value.id))?.metadata.labels?.['dockside.dev/owner']);
        expect(cluster.pod(podName(sandbox.value.id))?.metadata.labels?.['dockside.dev/owner']).toBe(learner.id);
        const open = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
          sandboxId: sandbox.value.id,
          cols: 120,
          rows: 40,
        });
        if (!open.ok) throw new Error(open.error.message);
        const terminal = new TerminalReader(socket, open.value.terminalId, open.value.scrollback);
        await terminal.firstPrompt();

        for (const step of lesson.steps.slice(0, 3)) {
          const before = nextResult(socket, step.id, () => true, 30_000);
          socket.emit('lesson:focus', { lessonId: lesson.id, stepId: step.id });
          expect((await before).stepStatus).not.toBe('passed');
          const passed = nextResult(socket, step.id, (r) => r.stepStatus === 'passed', 180_000);
          for (const line of step.run) {
            const prompt = terminal.prompt(180_000);
            prompt.catch(() => {});
            terminal.type(`${line}\r`);
            await prompt;
          }
          const after = await passed.catch((err: Error) => {
            throw new Error(`${err.message}\n--- terminal ---\n${terminal.text.slice(-3000)}`);
          });
          expect(after.results.every((r) => r.status === 'passed')).toBe(true);
        }

        // The Layers view: the image the third step pulled, with its layers.
        const images = (await (await learner.fetch(`/api/sandboxes/${sandbox.value.id}/images`)).json()) as {
          images: { tags: string[]; diffIds: string[] }[];
        };
        const hello = images.images.find((i) => i.tags.some((t) => t.startsWith('hello-world')));
        expect(hello?.diffIds.length).toBeGreaterThan(0);
        const layers = (await (
          await learner.fetch(`/api/sandboxes/${sandbox.value.id}/images/hello-world/layers`)
        ).json()) as { rows: { diffId: string | null }[] };
        expect(layers.rows.length).toBeGreaterThan(0);
      } finally {
        socket.close();
      }
    }, 600_000);

    it('tells the learner when their pod is deleted behind the server’s back', async () => {
      const learner = await Learner.join(server.url);
      const socket = learner.socket();
      try {
        const sandbox = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
        if (!sandbox.ok) throw new Error(sandbox.error.message);
        const ended = new Promise<{ sandboxId: string; reason: string }>((resolve) =>
          socket.on('sandbox:ended', resolve),
        );
        await cluster.deletePod(podName(sandbox.value.id));
        expect(await ended).toMatchObject({ sandboxId: sandbox.value.id, reason: 'lost' });
        // The next ensure gets a new sandbox.
        const next = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
        expect(next.ok && next.value.id).not.toBe(sandbox.value.id);
      } finally {
        socket.close();
      }
    }, 180_000);

    it('tells a learner in words when the cluster’s quota is used up', async () => {
      cluster.quotaPods = 0;
      try {
        const learner = await Learner.join(server.url);
        const socket = learner.socket();
        try {
          const sandbox = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
          expect(sandbox.ok).toBe(false);
          if (!sandbox.ok) expect(sandbox.error.message).toMatch(/the cluster's quota for sandboxes is used up/);
        } finally {
          socket.close();
        }
      } finally {
        cluster.quotaPods = undefined;
      }
    }, 120_000);
  },
);
