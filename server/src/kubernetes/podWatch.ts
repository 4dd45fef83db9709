// The sandbox pods as the API server says they are, kept by list + watch (as client-go's informers and
// JupyterHub's KubeSpawner reflector do) rather than polling: a list gives the pods and a
// resourceVersion, a watch from there gives every change. The watch is restarted from the last version
// seen when its connection drops or when it falls silent (KubeSpawner's stalled watches, #209 and #577:
// bookmarks are asked for, so a healthy watch is never silent long), and relisted when the API server
// answers 410 Gone (the version was compacted away). Pods that vanished meanwhile are reported deleted.
import { type CoreV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';

export type PodCondition = { type: string; status: string; reason?: string; message?: string };
export type ContainerStatus = {
  name: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
};
/** The fields of a pod this driver reads (the same in the API's JSON and client-node's models). */
export type PodState = {
  metadata: {
    name: string;
    uid?: string;
    labels?: Record<string, string>;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
  };
  spec?: { containers: { name: string; image?: string; resources?: { limits?: Record<string, string> } }[] };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
  };
};

export type WatchRestarts = { gone: number; dropped: number; silent: number };

type Listener = (pod: PodState) => void;

export class PodWatch {
  readonly pods = new Map<string, PodState>();
  /** Why the watch was restarted, counted (tests and the log read them). */
  readonly restarts: WatchRestarts = { gone: 0, dropped: 0, silent: 0 };
  private resourceVersion = '';
  private controller: AbortController | undefined;
  private closed = false;
  private backoffMs = 100;
  private readonly changed = new Set<Listener>();
  private readonly deleted = new Set<Listener>();
  private readonly watch: Watch;

  constructor(
    kubeConfig: KubeConfig,
    private readonly api: CoreV1Api,
    private readonly namespace: string,
    private readonly labelSelector: string,
    opts: { silenceMs?: number } = {},
  ) {
    this.watch = new Watch(kubeConfig);
    this.silenceMs = opts.silenceMs ?? 90_000;
  }

  private readonly silenceMs: number;

  onChange(l: Listener): () => void {
    this.changed.add(l);
    return () => this.changed.delete(l);
  }

  onDeleted(l: Listener): () => void {
    this.deleted.add(l);
    return () => this.deleted.delete(l);
  }

  async start(): Promise<void> {
    await this.relist();
    this.startWatch();
  }

  close(): void {
    this.closed = true;
    this.controller?.abort();
  }

  private async relist(): Promise<void> {
    const list = await this.api.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector });
    const seen = new Set<string>();
    for (const pod of list.items as unknown as PodState[]) {
      seen.add(pod.metadata.name);
      this.set(pod);
    }
    for (const [name, pod] of this.pods)
      if (!seen.has(name)) {
        this.pods.delete(name);
        for (const l of this.deleted) l(pod);
      }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  private set(pod: PodState): void {
    this.pods.set(pod.metadata.name, pod);
    for (const l of this.changed) l(pod);
  }

  private startWatch(): void {
    if (this.closed) return;
    let gone = false;
    let silent = false;
    let events = 0;
    // Bookmarks keep a healthy watch talking; one that says nothing this long is stalled (client-node's
    // own inactivity timeout, 30 s, ends one too: both count as silent).
    let heard = Date.now();
    const stall = setInterval(
      () => {
        if (Date.now() - heard < this.silenceMs) return;
        silent = true;
        this.controller?.abort();
      },
      Math.max(50, this.silenceMs / 4),
    );
    const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
    void this.watch
      .watch(
        path,
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          labelSelector: this.labelSelector,
          timeoutSeconds: 300,
        },
        (type: string, object: unknown) => {
          events++;
          heard = Date.now();
          const pod = object as PodState;
          if (type === 'ERROR') {
            if ((object as { code?: number }).code === 410) gone = true;
            return this.controller?.abort();
          }
          if (pod.metadata?.resourceVersion) this.resourceVersion = pod.metadata.resourceVersion;
          if (type === 'ADDED' || type === 'MODIFIED') this.set(pod);
          else if (type === 'DELETED' && this.pods.delete(pod.metadata.name)) for (const l of this.deleted) l(pod);
        },
        (err: unknown) => {
          clearInterval(stall);
          const e = err as (Error & { statusCode?: number }) | null;
          void this.watchEnded(silent ? Object.assign(new Error('silent'), { name: 'TimeoutError' }) : e, gone, events);
        },
      )
      .then(
        (c) => (this.controller = c),
        (e: unknown) => {
          clearInterval(stall);
          void this.watchEnded(e as Error, false, 0);
        },
      );
  }

  private async watchEnded(
    err: (Error & { statusCode?: number }) | null,
    gone: boolean,
    events: number,
  ): Promise<void> {
    if (this.closed) return;
    if (gone || err?.statusCode === 410) this.restarts.gone++;
    else if (err?.name === 'TimeoutError') this.restarts.silent++;
    else if (err) this.restarts.dropped++;
    // A watch the server ended at its timeoutSeconds (no error) just starts again.
    if (events > 0 || !err) this.backoffMs = 100;
    else this.backoffMs = Math.min(this.backoffMs * 2, 5_000);
    await new Promise((r) => setTimeout(r, err ? this.backoffMs : 0));
    if (this.closed) return;
    try {
      if (gone || err?.statusCode === 410) await this.relist();
    } catch (e) {
      console.warn(`kubernetes: listing sandbox pods failed: ${(e as Error).message}`);
      this.backoffMs = Math.min(this.backoffMs * 2, 5_000);
      return void setTimeout(() => void this.watchEnded(new Error('relist failed'), true, 0), this.backoffMs);
    }
    this.startWatch();
  }
}
