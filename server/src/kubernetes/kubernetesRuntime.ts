// The Runtime as Kubernetes pods: one pod per sandbox (as JupyterHub's KubeSpawner makes one per user),
// made from the PodTemplate the manifests ship, followed by a watch, and reached through the agent in
// each pod (dockside-agent, by pod IP and a per-pod secret) rather than the API server's exec and
// port-forward (terminal bytes do not belong on the API server; client-node's exec and port-forward have
// open bugs, #465, #2532, #459). Terminals and the engine's API are Unix sockets the rest of the server
// connects to, as with the native runtime: here each is a relay, in this server's own directory, to a
// stream through the agent. docs/kubernetes.md has the design.
import { createHmac } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { RuntimeError } from '../engine/nativeRuntime';
import type {
  ExecOptions,
  ExecResult,
  FileOp,
  Runtime,
  RuntimeSandbox,
  SandboxInfo,
  SandboxLimits,
  SessionOptions,
} from '../engine/runtime';
import { AgentClient } from './agentClient';
import {
  agentPort,
  checkTemplate,
  LABELS,
  labelValue,
  podName,
  type PodTemplate,
  sandboxPod,
  secretName,
} from './podSpec';
import { type PodState, PodWatch } from './podWatch';

export type KubernetesRuntimeOptions = {
  kubeConfig: KubeConfig;
  /** Where sandbox pods live (the manifests' dockside-sandboxes). */
  namespace: string;
  /** The PodTemplate in that namespace every sandbox pod is made from. */
  podTemplate: string;
  /** Derives each pod's agent secret, so any replica sharing it can reach any pod. */
  agentKey: string | Buffer;
  /** This server's own directory for the relay sockets (short: Unix socket paths are ≤ 107 bytes). */
  socketDir: string;
  startTimeoutMs?: number;
  /** A watch that has said nothing for this long is restarted. */
  watchSilenceMs?: number;
};

/** Why a sandbox went away without this process ending it. */
export type LostReason = 'deleted' | 'ended';

const MANAGED = `${LABELS.name}=dockside-sandbox`;

function apiMessage(err: unknown): { code: number | null; message: string } {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? safeJson(err.body) : (err.body as { message?: string } | undefined);
    return { code: err.code, message: body?.message ?? String(err.body ?? '').slice(0, 300) };
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return { code: null, message: cause?.message ?? (err as Error).message };
}

function safeJson(s: string): { message?: string } | undefined {
  try {
    return JSON.parse(s) as { message?: string };
  } catch {
    return { message: s.slice(0, 300) };
  }
}

/** What a user reads for each Kubernetes failure they can meet. */
export function explain(err: unknown, what: string): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const { code, message } = apiMessage(err);
  if (code === 403 && /exceeded quota/i.test(message))
    return new RuntimeError(6, `the cluster's quota for sandboxes is used up (${message}); try again when one ends`);
  if (code === 401 || code === 403)
    return new RuntimeError(
      1,
      `the server may not ${what} in the sandbox namespace (${message}); its RBAC is deploy/kubernetes/base/rbac.yaml`,
    );
  if (code === 404) return new RuntimeError(3, `no such sandbox pod (${message})`);
  if (code === 409) return new RuntimeError(4, `the sandbox pod already exists (${message})`);
  if (code === null) return new RuntimeError(1, `cannot reach the Kubernetes API server to ${what}: ${message}`);
  return new RuntimeError(1, `the Kubernetes API server refused to ${what} (${code}: ${message})`);
}

/** Ready, or an error a learner can read, or undefined while it is still coming up. */
export function podReadiness(pod: PodState): 'ready' | RuntimeError | undefined {
  const conditions = pod.status?.conditions ?? [];
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
    return new RuntimeError(6, `the cluster has no room for another sandbox (${scheduled.message ?? 'unschedulable'})`);
  for (const s of pod.status?.containerStatuses ?? []) {
    const waiting = s.state?.waiting;
    if (waiting && /^(ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull)$/.test(waiting.reason ?? '')) {
      const image = pod.spec?.containers.find((c) => c.name === s.name)?.image ?? 'the sandbox image';
      return new RuntimeError(1, `the cluster cannot pull ${image} (${waiting.message ?? waiting.reason})`);
    }
    if (waiting && /^(CreateContainerConfigError|CreateContainerError|RunContainerError)$/.test(waiting.reason ?? ''))
      return new RuntimeError(1, `the sandbox container could not start (${waiting.reason}: ${waiting.message ?? ''})`);
  }
  if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded')
    return new RuntimeError(1, `the sandbox pod ended before it was ready (${pod.status.phase})`);
  const ready = conditions.find((c) => c.type === 'Ready')?.status === 'True';
  return ready && pod.status?.podIP ? 'ready' : undefined;
}

export class KubernetesRuntime implements Runtime {
  private readonly api: CoreV1Api;
  private readonly watch: PodWatch;
  private template: { value: PodTemplate; at: number } | undefined;
  private started: Promise<void> | undefined;
  /** Pods this process is deleting: their DELETED event is no loss. */
  private readonly ending = new Set<string>();
  private readonly relays = new Map<string, net.Server>();
  private readonly lost = new Set<(sandboxId: string, reason: LostReason) => void>();
  private readonly wasReady = new Set<string>();

  constructor(private readonly opts: KubernetesRuntimeOptions) {
    this.api = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.watch = new PodWatch(opts.kubeConfig, this.api, opts.namespace, MANAGED, { silenceMs: opts.watchSilenceMs });
    this.watch.onChange((pod) => {
      const id = pod.metadata.labels?.[LABELS.sandbox];
      if (!id) return;
      if (podReadiness(pod) === 'ready') this.wasReady.add(id);
      else if (this.wasReady.has(id) && /^(Failed|Succeeded)$/.test(pod.status?.phase ?? '') && !this.ending.has(id))
        this.reportLost(id, 'ended');
    });
    this.watch.onDeleted((pod) => {
      const id = pod.metadata.labels?.[LABELS.sandbox];
      if (id && !this.ending.has(id) && this.wasReady.has(id)) this.reportLost(id, 'deleted');
      if (id) this.closeRelays(id);
    });
  }

  /** Lists the sandbox pods and starts watching them; the first use of the runtime waits for it. */
  start(): Promise<void> {
    this.started ??= this.watch.start().catch((e: unknown) => {
      this.started = undefined;
      throw explain(e, 'list pods');
    });
    return this.started;
  }

  close(): void {
    this.watch.close();
    for (const id of new Set([...this.relays.keys()].map((k) => k.split('\0')[0]!))) this.closeRelays(id);
  }

  /** The watch's restarts by cause (410 Gone, dropped, silent). */
  get watchRestarts() {
    return { ...this.watch.restarts };
  }

  /** Called when a sandbox's pod is deleted or ends without this process ending it. */
  onLost(listener: (sandboxId: string, reason: LostReason) => void): () => void {
    this.lost.add(listener);
    return () => this.lost.delete(listener);
  }

  private reportLost(id: string, reason: LostReason): void {
    this.wasReady.delete(id);
    this.closeRelays(id);
    for (const l of this.lost) l(id, reason);
  }

  private async podTemplate(): Promise<PodTemplate> {
    if (this.template && Date.now() - this.template.at < 30_000) return this.template.value;
    const { namespace, podTemplate: name } = this.opts;
    const t = (await this.api.readNamespacedPodTemplate({ name, namespace }).catch((e: unknown) => {
      throw explain(e, `read the pod template ${name}`);
    })) as unknown as PodTemplate;
    const value = {
      ...t,
      apiVersion: 'v1',
      kind: 'PodTemplate',
      metadata: { ...t.metadata, namespace },
    } as PodTemplate;
    checkTemplate(value);
    this.template = { value, at: Date.now() };
    return value;
  }

  private token(id: string): string {
    return createHmac('sha256', this.opts.agentKey).update(`dockside-agent:${this.opts.namespace}:${id}`).digest('hex');
  }

  private pod(id: string): PodState | undefined {
    return this.watch.pods.get(podName(id));
  }

  private async agent(id: string): Promise<AgentClient> {
    await this.start();
    const pod = this.pod(id);
    if (!pod) throw new RuntimeError(3, `no sandbox ${id}`);
    if (podReadiness(pod) !== 'ready' || pod.metadata.deletionTimestamp)
      throw new RuntimeError(5, `sandbox ${id} is not running`);
    const port = agentPort((await this.podTemplate()) as PodTemplate);
    return new AgentClient({ host: pod.status!.podIP!, port, token: this.token(id) });
  }

  async create(id: string, _range: number, limits: SandboxLimits): Promise<void> {
    await this.start();
    const template = await this.podTemplate();
    const pod = sandboxPod(template, { sandboxId: id, limits });
    const { namespace } = this.opts;
    const made = await this.api.createNamespacedPod({ namespace, body: pod as never }).catch((e: unknown) => {
      throw explain(e, 'create pods');
    });
    try {
      // Owned by the pod: Kubernetes' garbage collector deletes it with the pod.
      await this.api
        .createNamespacedSecret({
          namespace,
          body: {
            metadata: {
              name: secretName(id),
              labels: { [LABELS.sandbox]: id },
              ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: podName(id), uid: made.metadata!.uid! }],
            },
            stringData: { token: this.token(id) },
          },
        })
        .catch((e: unknown) => {
          throw explain(e, 'create secrets');
        });
      await this.untilReady(id);
    } catch (err) {
      await this.destroy(id).catch(() => {});
      throw err;
    }
  }

  private untilReady(id: string): Promise<void> {
    const timeoutMs = this.opts.startTimeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const check = (pod: PodState | undefined) => {
        if (!pod || pod.metadata.labels?.[LABELS.sandbox] !== id) return;
        const state = podReadiness(pod);
        if (state === undefined) return;
        done();
        if (state === 'ready') resolve();
        else reject(state);
      };
      const timer = setTimeout(() => {
        done();
        reject(new RuntimeError(1, `the sandbox pod did not become ready within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const offChange = this.watch.onChange(check);
      const offDeleted = this.watch.onDeleted((pod) => {
        if (pod.metadata.labels?.[LABELS.sandbox] !== id) return;
        done();
        reject(new RuntimeError(1, 'the sandbox pod was deleted while it started'));
      });
      const done = () => {
        clearTimeout(timer);
        offChange();
        offDeleted();
      };
      check(this.pod(id));
    });
  }

  stop(id: string): Promise<void> {
    // A pod cannot be stopped with its files kept: what Kubernetes can do is destroy.
    return Promise.reject(
      new RuntimeError(2, `a Kubernetes sandbox cannot be stopped with its files kept (${id}); destroy it`),
    );
  }

  async destroy(id: string): Promise<void> {
    await this.start();
    this.ending.add(id);
    this.closeRelays(id);
    try {
      await this.api
        .deleteNamespacedPod({ name: podName(id), namespace: this.opts.namespace, gracePeriodSeconds: 5 })
        .catch((e: unknown) => {
          const err = explain(e, 'delete pods');
          if (err.kind !== 'not_found') throw err;
        });
      await this.api.deleteNamespacedSecret({ name: secretName(id), namespace: this.opts.namespace }).catch(() => {});
      // Gone from the watch's view too, so list() agrees at once.
      await new Promise<void>((resolve) => {
        if (!this.pod(id)) return resolve();
        const timer = setTimeout(finish, 30_000);
        const off = this.watch.onDeleted((p) => p.metadata.name === podName(id) && finish());
        function finish() {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    } finally {
      this.ending.delete(id);
      this.wasReady.delete(id);
      rmSync(this.relayDir(id), { recursive: true, force: true });
    }
  }

  async inspect(id: string): Promise<SandboxInfo> {
    await this.start();
    const pod = this.pod(id);
    if (!pod) throw new RuntimeError(3, `no sandbox ${id}`);
    const limits = pod.spec?.containers.find((c) => c.name === 'sandbox')?.resources?.limits ?? {};
    return {
      ...this.row(id, pod),
      pid: 0,
      limits: {
        memoryBytes: quantity(limits.memory),
        cpus: quantity(limits.cpu),
        diskBytes: quantity(limits['ephemeral-storage']),
        pids: 0,
      },
      // Without the metrics API the server does not know a pod's memory use.
      memoryUsage: 0,
      dockerSocket: this.dockerSocket(id),
    };
  }

  private row(id: string, pod: PodState): RuntimeSandbox {
    return {
      id,
      running: podReadiness(pod) === 'ready' && !pod.metadata.deletionTimestamp,
      range: null,
      createdAt: new Date(pod.metadata.creationTimestamp ?? 0).getTime(),
    };
  }

  async list(): Promise<RuntimeSandbox[]> {
    await this.start();
    return [...this.watch.pods.values()].flatMap((pod) => {
      const id = pod.metadata.labels?.[LABELS.sandbox];
      return id ? [this.row(id, pod)] : [];
    });
  }

  async exec(id: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return (await this.agent(id)).run(['exec', ...argv], opts);
  }

  async file(
    id: string,
    op: FileOp,
    args: string[],
    opts: { stdin?: Buffer; under?: string } = {},
  ): Promise<ExecResult> {
    return (await this.agent(id)).run(['file', opts.under ?? '/workspace', op, ...args], {
      stdin: opts.stdin,
      timeoutMs: 15_000,
    });
  }

  async openSession(id: string, name: string, argv: string[], opts: SessionOptions): Promise<void> {
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const r = await (
      await this.agent(id)
    ).run(['session', name, String(opts.cols), String(opts.rows), ...env, '--', ...argv]);
    if (r.code !== 0) throw new RuntimeError(r.code, r.stderr.trim() || `the terminal ${name} did not start`);
  }

  async sessions(id: string): Promise<string[]> {
    const r = await (await this.agent(id)).run(['sessions']);
    if (r.code !== 0) throw new RuntimeError(r.code, r.stderr.trim() || 'listing terminals failed');
    return r.stdout.toString('utf8').split('\n').filter(Boolean);
  }

  sessionSocket(id: string, name: string): string {
    return this.relay(id, `t-${name}`, ['attach', name]);
  }

  async connect(id: string, port: number): Promise<Duplex> {
    return (await this.agent(id)).stream(['tcp', String(port)]);
  }

  dockerSocket(id: string): string {
    return this.relay(id, 'docker', ['docker']);
  }

  /** Labels the pod with its learner and workshop (kubectl get pods -l dockside.dev/workshop=…). */
  async label(id: string, labels: { owner: string | null; workshop: string | null }): Promise<void> {
    await this.start();
    const current = this.pod(id)?.metadata.labels ?? {};
    const ops = (
      [
        [LABELS.owner, labels.owner],
        [LABELS.workshop, labels.workshop],
      ] as const
    ).flatMap(([key, value]) => {
      const at = `/metadata/labels/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (value !== null)
        return current[key] === labelValue(value) ? [] : [{ op: 'add', path: at, value: labelValue(value) }];
      return key in current ? [{ op: 'remove', path: at }] : [];
    });
    if (!ops.length) return;
    await this.api
      .patchNamespacedPod({ name: podName(id), namespace: this.opts.namespace, body: ops })
      .catch((e: unknown) => {
        throw explain(e, 'label pods');
      });
  }

  private relayDir(id: string): string {
    return path.join(this.opts.socketDir, createHmac('sha256', 'relay').update(id).digest('hex').slice(0, 16));
  }

  /**
   * A Unix socket in this server's directory whose every connection is a stream through the sandbox's
   * agent; made on first use (listening starts at once, so a connect right after finds it).
   */
  private relay(id: string, name: string, words: string[]): string {
    const dir = this.relayDir(id);
    const socketPath = path.join(dir, `${name}.sock`);
    const key = `${id}\0${name}`;
    if (this.relays.has(key)) return socketPath;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(socketPath, { force: true });
    const server = net.createServer((local) => {
      local.on('error', () => {});
      this.agent(id)
        .then((a) => a.stream(words))
        .then((remote) => {
          remote.on('error', () => local.destroy());
          local.on('close', () => remote.destroy());
          remote.on('close', () => local.destroy());
          local.pipe(remote);
          remote.pipe(local);
        })
        .catch(() => local.destroy());
    });
    server.on('error', (e) => console.warn(`kubernetes: relay ${socketPath}: ${e.message}`));
    server.listen(socketPath);
    this.relays.set(key, server);
    return socketPath;
  }

  private closeRelays(id: string): void {
    for (const [key, server] of this.relays)
      if (key.startsWith(`${id}\0`)) {
        server.close();
        this.relays.delete(key);
      }
  }
}

/** A Kubernetes quantity (`1Gi`, `500m`, `2`) as a number of bytes or cores. */
export function quantity(q: string | undefined): number {
  if (!q) return 0;
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) return 0;
  const unit = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }[
    m[2] ?? ''
  ];
  return Number(m[1]) * (unit ?? 1);
}
