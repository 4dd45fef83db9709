// A fake Kubernetes API server, for tests only: no kube-apiserver can be installed here (none in Debian
// or npm). It speaks as much of the API as the Kubernetes driver uses (pods create/get/delete/list and
// watch with resourceVersion, bookmarks, timeoutSeconds and 410 Gone for a compacted version; secrets;
// the sandbox PodTemplate; bearer tokens), and its "kubelet" makes every pod a real local sandbox with
// the native runtime: the agent binary is copied in and started as the pod's entrypoint would start it,
// the pod's secret is mounted where the template says, and the pod's IP is a loopback address
// (127.0.0.N) whose agent port relays into the sandbox. A pod Ready here means a real engine answers.
// Failures a cluster can have are switches: a ResourceQuota on pods, no node with room, an image that
// cannot be pulled, watches that drop, stall or find their version compacted.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { NativeRuntime } from '../../src/engine/nativeRuntime';
import type { SandboxLimits } from '../../src/engine/runtime';
import { AgentClient } from '../../src/kubernetes/agentClient';
import { quantity } from '../../src/kubernetes/kubernetesRuntime';
import type { K8sObject } from '../../src/kubernetes/kustomize';
import { LABELS, type PodTemplate } from '../../src/kubernetes/podSpec';
import { NATIVE_BUILD_DIR } from '../../src/paths';

type Obj = K8sObject & { metadata: K8sObject['metadata'] & Record<string, unknown> } & Record<string, unknown>;
type Pod = Obj & {
  spec: {
    containers: {
      name: string;
      image: string;
      env?: { name: string; value?: string }[];
      resources?: { limits?: Record<string, string> };
      volumeMounts?: { name: string; mountPath: string }[];
      ports?: { name?: string; containerPort: number }[];
    }[];
    volumes?: { name: string; secret?: { secretName: string } }[];
  };
  status: Record<string, unknown>;
};
type Watcher = { res: http.ServerResponse; selector: Record<string, string>; stalled: boolean };
type Event = { rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Pod };

export type FakeClusterOptions = {
  runtime: NativeRuntime;
  namespace: string;
  podTemplate: PodTemplate;
  /** A node's kubelet --pod-max-pids: Kubernetes has no per-pod process limit in the spec. */
  podPidsLimit?: number;
  bookmarkMs?: number;
};

const AGENT_BIN = path.join(NATIVE_BUILD_DIR, 'dockside-agent');
/** Inside every fake pod, this port is forwarded by the agent to localhost:8080 (by name, resolved). */
export const FORWARD_TEST_PORT = 6080;

export class FakeCluster {
  readonly token = randomUUID();
  private server: http.Server | undefined;
  private rv = 1;
  private readonly pods = new Map<string, Pod>();
  private readonly secrets = new Map<string, Obj>();
  private history: Event[] = [];
  private oldestRv = 1;
  private readonly watchers = new Set<Watcher>();
  private readonly relays = new Map<string, net.Server>();
  private readonly sandboxes = new Map<string, string>(); // pod name → native sandbox id
  private nextAddress = 2;
  private nextRange = 12_000 + Math.floor(Math.random() * 2000);
  /** Switches for what a cluster can do to its users. */
  quotaPods: number | undefined;
  unschedulable = false;
  imagePullFails = false;
  /** Off: every event is compacted away as soon as it happens (a watch resuming from before it gets 410). */
  keepHistory = true;
  /** Requests seen, by method and path (tests assert on the watch's resourceVersions). */
  readonly requests: string[] = [];

  constructor(private readonly opts: FakeClusterOptions) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const bookmarks = setInterval(() => this.bookmark(), this.opts.bookmarkMs ?? 1000);
    this.server.on('close', () => clearInterval(bookmarks));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as net.AddressInfo).port}`;
  }

  /** A kubeconfig for @kubernetes/client-node (plain http is allowed only with skipTLSVerify). */
  kubeconfig() {
    return {
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'dockside', token: this.token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'dockside', namespace: this.opts.namespace }],
      currentContext: 'fake',
    };
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    for (const name of [...this.pods.keys()]) await this.removePod(name);
    await new Promise((r) => this.server?.close(r));
  }

  /** Forgets every event before now: a watch from an older version gets 410 Gone. */
  compact(): void {
    this.oldestRv = this.rv;
    this.history = [];
  }

  /** Cuts every open watch connection (an API server restart, a load balancer's idle timeout). */
  dropWatches(): void {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
  }

  /** Open watches stop sending anything, bookmarks included, and stay open (KubeSpawner #209). */
  stallWatches(): void {
    for (const w of this.watchers) w.stalled = true;
  }

  /** Deletes a pod behind the server's back, as `kubectl delete pod` or an eviction would. */
  deletePod(name: string): Promise<void> {
    return this.removePod(name);
  }

  /** A pod as the API server has it now. */
  pod(name: string): { metadata: { labels?: Record<string, string> } } | undefined {
    return this.pods.get(name);
  }

  /** The native sandbox behind a pod. */
  sandboxOf(podName: string): string | undefined {
    return this.sandboxes.get(podName);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // --- the API ---

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers.authorization !== `Bearer ${this.token}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|secrets|podtemplates)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return status(res, 404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);
    const [, ns, kind, name] = m;
    if (ns !== this.opts.namespace) return status(res, 403, 'Forbidden', `namespace ${ns} is not the sandboxes'`);
    const body = req.method === 'POST' ? ((await readJson(req)) as Obj) : undefined;
    if (req.method === 'PATCH' && kind !== 'pods') return status(res, 405, 'MethodNotAllowed', 'only pods are patched');
    if (kind === 'podtemplates') {
      if (req.method !== 'GET' || name !== this.opts.podTemplate.metadata.name)
        return status(res, 404, 'NotFound', `podtemplates "${name}" not found`);
      return json(res, 200, this.opts.podTemplate);
    }
    if (kind === 'secrets') {
      if (req.method === 'POST' && body) {
        if (this.secrets.has(body.metadata.name))
          return status(res, 409, 'AlreadyExists', `secrets "${body.metadata.name}" already exists`);
        const secret = { ...body, metadata: { ...body.metadata, uid: randomUUID(), namespace: ns } } as Obj;
        this.secrets.set(body.metadata.name, secret);
        return json(res, 201, secret);
      }
      if (req.method === 'DELETE' && name) {
        if (!this.secrets.delete(name)) return status(res, 404, 'NotFound', `secrets "${name}" not found`);
        return json(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      return status(res, 405, 'MethodNotAllowed', 'only create and delete');
    }
    if (req.method === 'GET' && !name) {
      const selector = parseSelector(url.searchParams.get('labelSelector'));
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1')
        return this.watch(res, url.searchParams, selector);
      const items = [...this.pods.values()].filter((p) => matches(p, selector));
      return json(res, 200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items,
      });
    }
    if (req.method === 'POST' && body) return this.createPod(res, body as Pod);
    const pod = name ? this.pods.get(name) : undefined;
    if (!pod) return status(res, 404, 'NotFound', `pods "${name}" not found`);
    if (req.method === 'GET') return json(res, 200, pod);
    if (req.method === 'DELETE') {
      void this.removePod(pod.metadata.name);
      return json(res, 200, pod);
    }
    if (req.method === 'PATCH') {
      // JSON patches of labels, as the driver sends them.
      if (req.headers['content-type'] !== 'application/json-patch+json')
        return status(res, 415, 'UnsupportedMediaType', `${req.headers['content-type']} patches are not served here`);
      const ops = (await readJson(req)) as { op: string; path: string; value?: string }[];
      const labels = { ...pod.metadata.labels };
      for (const o of ops) {
        const m = /^\/metadata\/labels\/(.+)$/.exec(o.path);
        if (!m) return status(res, 422, 'Invalid', `only labels are patched here, not ${o.path}`);
        const key = m[1]!.replace(/~1/g, '/').replace(/~0/g, '~');
        if (o.op === 'add' || o.op === 'replace') labels[key] = o.value!;
        else if (o.op === 'remove' && key in labels) delete labels[key];
        else return status(res, 422, 'Invalid', `cannot ${o.op} ${o.path}`);
      }
      pod.metadata.labels = labels;
      this.record('MODIFIED', pod);
      return json(res, 200, pod);
    }
    return status(res, 405, 'MethodNotAllowed', `${req.method} is not served here`);
  }

  private watch(res: http.ServerResponse, q: URLSearchParams, selector: Record<string, string>): void {
    const from = Number(q.get('resourceVersion') || this.rv);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (from < this.oldestRv) {
      // As the API server does: a 200 whose one event is an ERROR with the 410 Status, then the end.
      res.end(
        `${JSON.stringify({
          type: 'ERROR',
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message: `too old resource version: ${from} (${this.oldestRv})`,
            reason: 'Expired',
            code: 410,
          },
        })}\n`,
      );
      return;
    }
    const w: Watcher = { res, selector, stalled: false };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
    for (const e of this.history) if (e.rv > from && matches(e.object, selector)) send(w, e.type, e.object);
    const timeout = Number(q.get('timeoutSeconds') || 0);
    if (timeout > 0) {
      const timer = setTimeout(() => res.end(), timeout * 1000);
      res.on('close', () => clearTimeout(timer));
    }
  }

  private bookmark(): void {
    for (const w of this.watchers)
      if (!w.stalled)
        w.res.write(
          `${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } })}\n`,
        );
  }

  private record(type: Event['type'], pod: Pod): void {
    pod.metadata.resourceVersion = String(++this.rv);
    const e: Event = { rv: this.rv, type, object: structuredClone(pod) };
    this.history.push(e);
    for (const w of this.watchers) if (!w.stalled && matches(pod, w.selector)) send(w, type, e.object);
    if (!this.keepHistory) this.compact();
  }

  private createPod(res: http.ServerResponse, body: Pod): void {
    const name = body.metadata.name;
    if (this.pods.has(name)) return status(res, 409, 'AlreadyExists', `pods "${name}" already exists`);
    if (this.quotaPods !== undefined && this.pods.size >= this.quotaPods)
      return status(
        res,
        403,
        'Forbidden',
        `pods "${name}" is forbidden: exceeded quota: sandboxes, requested: pods=1, used: pods=${this.pods.size}, limited: pods=${this.quotaPods}`,
      );
    const pod: Pod = {
      ...structuredClone(body),
      metadata: {
        ...body.metadata,
        namespace: this.opts.namespace,
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString(),
      },
      status: { phase: 'Pending', conditions: [] },
    };
    this.pods.set(name, pod);
    this.record('ADDED', pod);
    json(res, 201, pod);
    void this.kubelet(pod);
  }

  private setStatus(pod: Pod, status: Record<string, unknown>): void {
    if (this.pods.get(pod.metadata.name) !== pod) return;
    pod.status = { ...pod.status, ...status };
    this.record('MODIFIED', pod);
  }

  // --- the node ---

  /** Schedules the pod and runs it as a real sandbox, as far as the switches allow. */
  private async kubelet(pod: Pod): Promise<void> {
    const now = new Date().toISOString();
    if (this.unschedulable) {
      const message = '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available.';
      const cond = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now };
      return this.setStatus(pod, { conditions: [cond] });
    }
    this.setStatus(pod, { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }] });
    const c = pod.spec.containers.find((x) => x.name === 'sandbox')!;
    if (this.imagePullFails) {
      const waiting = {
        reason: 'ErrImagePull',
        message: `failed to pull and unpack image "${c.image}": not found`,
      };
      return this.setStatus(pod, {
        containerStatuses: [{ name: c.name, image: c.image, ready: false, state: { waiting } }],
      });
    }
    const id = pod.metadata.labels?.[LABELS.sandbox];
    try {
      if (!id) throw new Error(`the pod has no ${LABELS.sandbox} label`);
      // The secret volume: the kubelet waits for the secret to exist.
      const tokenMount = c.volumeMounts?.find((v) => v.name === 'agent-token');
      const secretName = pod.spec.volumes?.find((v) => v.name === 'agent-token')?.secret?.secretName;
      let secret: Obj | undefined;
      for (let i = 0; i < 300 && !(secret = this.secrets.get(secretName ?? '')); i++)
        await new Promise((r) => setTimeout(r, 100));
      if (!secret || !tokenMount) throw new Error(`secret ${secretName} never appeared`);
      const token = (secret.stringData as { token: string }).token;
      const limits = c.resources?.limits ?? {};
      const sandboxLimits: SandboxLimits = {
        memoryBytes: quantity(limits.memory) || 1024 ** 3,
        cpus: quantity(limits.cpu) || 1,
        diskBytes: quantity(limits['ephemeral-storage']) || 2 * 1024 ** 3,
        pids: this.opts.podPidsLimit ?? 2048,
      };
      await this.createSandbox(id, sandboxLimits);
      this.sandboxes.set(pod.metadata.name, id);
      if (this.pods.get(pod.metadata.name) !== pod) return void (await this.opts.runtime.destroy(id).catch(() => {}));
      // "Pulling the image": the agent is the image's entrypoint; the secret is mounted read-only.
      const rt = this.opts.runtime;
      const agentPort = c.ports!.find((p) => p.name === 'agent')!.containerPort;
      const tokenFile = `${tokenMount.mountPath}/token`;
      const put = await rt.exec(
        id,
        [
          'sh',
          '-c',
          `set -e; mkdir -p /usr/local/bin '${tokenMount.mountPath}'; cat > /usr/local/bin/dockside-agent; chmod 0755 /usr/local/bin/dockside-agent; printf %s '${token}' > '${tokenFile}'; chmod 0400 '${tokenFile}'`,
        ],
        { stdin: readFileSync(AGENT_BIN) },
      );
      if (put.code !== 0) throw new Error(`could not install the agent: ${put.stderr}`);
      await rt.openSession(
        id,
        'pod-agent',
        // The pod's own forwards (`dockside-agent pod` makes them to the cluster's registry and proxy)
        // have no cluster service to reach here: one to a port inside the sandbox exercises them.
        [
          '/usr/local/bin/dockside-agent',
          'serve',
          '127.0.0.1',
          String(agentPort),
          tokenFile,
          '--forward',
          `127.0.0.1:${FORWARD_TEST_PORT}=localhost:8080`,
        ],
        {
          cols: 80,
          rows: 24,
        },
      );
      const podIP = `127.0.0.${this.nextAddress++}`;
      const relay = net.createServer((conn) => {
        conn.on('error', () => {});
        rt.connect(id, agentPort).then(
          (inside) => {
            inside.on('error', () => conn.destroy());
            conn.on('close', () => inside.destroy());
            conn.pipe(inside).pipe(conn);
          },
          () => conn.destroy(),
        );
      });
      await new Promise<void>((r, j) => relay.once('error', j).listen(agentPort, podIP, r));
      this.relays.set(pod.metadata.name, relay);
      // The readiness probe, through that address: the agent answers a request.
      const probe = new AgentClient({ host: podIP, port: agentPort, token });
      for (let i = 0; ; i++) {
        if (
          await probe.run(['sessions'], { timeoutMs: 2000 }).then(
            (r) => r.code === 0,
            () => false,
          )
        )
          break;
        if (i > 100) throw new Error('the agent never listened');
        await new Promise((r) => setTimeout(r, 100));
      }
      const started = new Date().toISOString();
      this.setStatus(pod, {
        phase: 'Running',
        podIP,
        podIPs: [{ ip: podIP }],
        startTime: started,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: started },
          { type: 'Ready', status: 'True', lastTransitionTime: started },
        ],
        containerStatuses: [
          { name: c.name, image: c.image, ready: true, started: true, state: { running: { startedAt: started } } },
        ],
      });
    } catch (err) {
      const waiting = { reason: 'RunContainerError', message: (err as Error).message };
      this.setStatus(pod, { containerStatuses: [{ name: c.name, image: c.image, ready: false, state: { waiting } }] });
    }
  }

  /** The native runtime's id ranges are the host's: another test's sandbox may hold one. */
  private async createSandbox(id: string, limits: SandboxLimits): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.opts.runtime.create(id, this.nextRange++, limits);
      } catch (err) {
        if ((err as { kind?: string }).kind !== 'exists' || attempt > 20) throw err;
      }
    }
  }

  private async removePod(name: string): Promise<void> {
    const pod = this.pods.get(name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    pod.metadata.deletionTimestamp = new Date().toISOString();
    this.record('MODIFIED', pod);
    this.relays.get(name)?.close();
    this.relays.delete(name);
    const id = this.sandboxes.get(name);
    this.sandboxes.delete(name);
    if (id) await this.opts.runtime.destroy(id).catch(() => {});
    // The garbage collector: what the pod owned goes with it.
    for (const [secretName, s] of this.secrets)
      if ((s.metadata.ownerReferences as { uid: string }[] | undefined)?.some((o) => o.uid === pod.metadata.uid))
        this.secrets.delete(secretName);
    this.pods.delete(name);
    this.record('DELETED', pod);
  }
}

function send(w: Watcher, type: string, object: unknown): void {
  w.res.write(`${JSON.stringify({ type, object })}\n`);
}

function parseSelector(s: string | null): Record<string, string> {
  if (!s) return {};
  return Object.fromEntries(
    s.split(',').map((kv) => {
      const [k, v] = kv.split('=');
      return [k!, v ?? ''];
    }),
  );
}

function matches(pod: Pod, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v);
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      try {
        resolve(JSON.parse(data || '{}'));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
