// The layer analyzer: the instant view from the engine API (image JSON and history), and file trees per
// layer, from the sandbox engine's own layer store (layerStore.ts) where it can be read, else from
// `docker save`. The export's layers are cached on disk by diffID (layers are immutable: a layer shared
// by ten images is read once). That cache is shared by every learner while each engine is its learner's,
// so only what is checked goes in: diffIDs computed here from the bytes read, a config whose digest ties
// it to the image, and nothing from a read that failed or stopped at a limit. What a layer store says
// cannot be checked without reading every byte, so it is kept for its own engine only.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import type Docker from 'dockerode';
import type { ContainerChanges, FullView, InstantView, LayerFile, LayerRow, PathChange } from '@dockside/protocol';
import { analyse, filesystemAt, layerChanges, pathHistory, type LayerEntry, type LayerIndex } from './filesystem';
import type { EngineLayerStore, StoreTimings } from './layerStore';
import { asExportError, durationInWords, EngineLimitError } from './limits';
import { configProven, indexSaveTar, SAVE_LIMITS, type ImageConfig, type SaveIndex, type SaveLimits } from './saveTar';

type HistoryItem = { Created: number; CreatedBy: string; Size: number; Comment?: string; Tags?: string[] | null };

/** The history as the engine sent it, with each field of its type (a bad field reads as missing). */
function historyOf(answer: unknown): HistoryItem[] {
  if (!Array.isArray(answer)) return [];
  return answer.map((item) => {
    const h = (item && typeof item === 'object' ? item : {}) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    return {
      // Seconds; beyond what a Date holds it reads as unknown (toISOString would throw).
      Created: Math.abs(num(h.Created)) < 8.64e12 ? num(h.Created) : 0,
      CreatedBy: typeof h.CreatedBy === 'string' ? h.CreatedBy : '',
      Size: num(h.Size),
      ...(typeof h.Comment === 'string' && h.Comment ? { Comment: h.Comment } : {}),
    };
  });
}

// Instructions that only change the image config: never a layer, whichever builder ran them.
const METADATA =
  /^(CMD|ENTRYPOINT|ENV|LABEL|EXPOSE|USER|VOLUME|STOPSIGNAL|HEALTHCHECK|SHELL|ARG|ONBUILD|MAINTAINER)\b/i;
const instructionOf = (createdBy: string) =>
  createdBy.replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/^\|\d+ .*?\/bin\/sh -c /, 'RUN ');

/**
 * Pairs history entries (oldest first) with diffIDs. The image config's `empty_layer` says which steps
 * have no layer. Without it: a step with bytes has a layer and a metadata step has none; a zero-byte
 * RUN, COPY or WORKDIR may or may not (BuildKit's WORKDIR always makes one, empty if the directory was
 * there; the legacy builder's only when it creates it), which the layer count settles when all such
 * steps go the same way — `certain` is false when it cannot.
 */
export function pairHistory(
  history: HistoryItem[],
  diffIds: string[],
  config?: ImageConfig,
): { rows: LayerRow[]; certain: boolean } {
  const oldestFirst = [...history].reverse();
  const flags = config?.history?.map((h) => Boolean(h.empty_layer));
  let empty: boolean[];
  let certain = true;
  if (flags && flags.length === oldestFirst.length) empty = flags;
  else {
    const metadata = oldestFirst.map((h) => h.Size === 0 && METADATA.test(instructionOf(h.CreatedBy)));
    const sized = oldestFirst.filter((h) => h.Size > 0).length;
    const open = oldestFirst.filter((h, i) => h.Size === 0 && !metadata[i]).length;
    // Zero-byte steps are layers only if the count needs them all; otherwise none (the usual case).
    const openAreLayers = open > 0 && sized + open === diffIds.length;
    certain = open === 0 || openAreLayers || sized === diffIds.length;
    empty = oldestFirst.map((h, i) => metadata[i]! || (h.Size === 0 && !openAreLayers));
  }
  let next = 0;
  const rows = oldestFirst.map((h, index) => {
    const isEmpty = empty[index]!;
    const diffId = isEmpty ? null : (diffIds[next++] ?? '(missing)');
    return {
      index,
      diffId,
      createdBy: h.CreatedBy,
      created: h.Created ? new Date(h.Created * 1000).toISOString() : null,
      size: h.Size,
      emptyLayer: isEmpty,
      ...(h.Comment ? { comment: h.Comment } : {}),
    };
  });
  // With the config a disagreement is real ("(missing)"); without it, it means the guess was wrong.
  return { rows, certain: empty === flags || (certain && next === diffIds.length) };
}

const isDigest = (s: unknown) => typeof s === 'string' && /^sha256:[0-9a-f]{64}$/.test(s);

/** Layer indexes by diffID and image configs by image id, on disk: both are content-addressed. */
export class LayerCache {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(digest: string, suffix: string): string {
    const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
    if (!hex) throw new Error(`not a sha256 digest: ${digest.slice(0, 80)}`);
    return path.join(this.dir, `${hex}${suffix}`);
  }

  get(diffId: string): LayerEntry[] | undefined {
    return this.read(diffId, '.json.gz') as LayerEntry[] | undefined;
  }

  has(diffId: string): boolean {
    return isDigest(diffId) && existsSync(this.file(diffId, '.json.gz'));
  }

  put(diffId: string, entries: LayerEntry[]): void {
    this.write(this.file(diffId, '.json.gz'), entries);
  }

  // ".image": the ".config" files of before were written without checking the config was the image's.
  config(imageId: string): ImageConfig | undefined {
    return this.read(imageId, '.image.json.gz') as ImageConfig | undefined;
  }

  putConfig(imageId: string, config: ImageConfig): void {
    this.write(this.file(imageId, '.image.json.gz'), { history: config.history, rootfs: config.rootfs });
  }

  /** What is stored under a digest; an id from the engine that is not a digest is simply not stored. */
  private read(digest: string, suffix: string): unknown {
    if (!isDigest(digest)) return undefined;
    try {
      return JSON.parse(gunzipSync(readFileSync(this.file(digest, suffix))).toString('utf8'));
    } catch {
      return undefined; // missing, or torn by a crash: read again from the engine
    }
  }

  private write(target: string, value: unknown): void {
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, gzipSync(JSON.stringify(value)));
    renameSync(tmp, target);
  }
}

const EXPORT = 'the image export from your engine';
/** Entries kept per engine from its layer store (one 85,000-file image fits; about 20 MB of memory). */
const MAX_STORED_ENTRIES = 200_000;

/**
 * GET /images/{id}/get, as dockerode's image.get() but given up, with its connection closed, when the
 * engine does not begin to answer within `idleMs` (from then on indexSaveTar's limits apply).
 */
function exportStream(docker: Docker, imageId: string, idleMs: number, stop: AbortSignal): Promise<Readable> {
  const abort = new AbortController();
  const timer = setTimeout(
    () =>
      abort.abort(
        new EngineLimitError(
          'idle',
          idleMs,
          `your engine did not begin to send the image export within ${durationInWords(idleMs)}; the Layers view stopped waiting`,
        ),
      ),
    idleMs,
  );
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/images/${imageId}/get`,
        method: 'GET',
        isStream: true,
        abortSignal: AbortSignal.any([abort.signal, stop]),
        statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
      },
      (err, stream) => {
        clearTimeout(timer);
        const aborted = [abort.signal, stop].find((s) => s.aborted);
        if (!err) return resolve(stream as Readable);
        if (aborted) return reject(aborted.reason as Error);
        // The engine's answer (404: no such image) is the route's to word; an engine that went away before
        // it answered (killed, restarting: "socket hang up") sent no export, as one cut short sent none whole.
        reject((err as { statusCode?: number }).statusCode ? err : asExportError(err, EXPORT));
      },
    );
  });
}

/** What a read of an export stops with when every request that waited for it has gone away. */
export class NobodyWaitsError extends Error {
  constructor() {
    super('every request for this image export went away before it was read; the read stopped');
    this.name = 'NobodyWaitsError';
  }
}

/** One read of an image's export, for all the requests that want it meanwhile. */
type SharedRead = { index: Promise<SaveIndex>; waiting: number; stop: AbortController };

/** One more request waits for the read; it stops when the last of them goes (one without a signal stays). */
function waitFor(read: SharedRead, signal: AbortSignal | undefined): Promise<SaveIndex> {
  if (!signal) {
    read.waiting = Infinity;
    return read.index;
  }
  if (signal.aborted) {
    if (read.waiting === 0) read.stop.abort(new NobodyWaitsError());
    return read.index;
  }
  read.waiting++;
  const leave = () => {
    if (--read.waiting === 0) read.stop.abort(new NobodyWaitsError());
  };
  signal.addEventListener('abort', leave, { once: true });
  read.index.then(
    () => signal.removeEventListener('abort', leave),
    () => signal.removeEventListener('abort', leave),
  );
  return read.index;
}

export class LayerAnalyzer {
  // One export read at a time per engine, and one for all who ask for the same image meanwhile: a learner
  // cannot make the server read many exports at once (each may take minutes and memory up to the limits).
  // A read stops when all who asked for it have gone (each request's `signal`), and one queued behind
  // another does not start: no export is read for nobody.
  private reads = new WeakMap<Docker, { queue: Promise<unknown>; images: Map<string, SharedRead> }>();

  // Layers read from a sandbox's own layer store, per engine: the learner controls that store, so what
  // it says is theirs alone and never goes into the shared cache (which holds only checked diff ids).
  private stored = new WeakMap<Docker, Map<string, LayerEntry[]>>();

  constructor(
    private readonly cache: LayerCache,
    /** Replaces some of SAVE_LIMITS (tests). */
    private readonly limits: Partial<SaveLimits> = {},
    /** Sandboxes' layer stores (layerStore.ts); without it, or for an engine it cannot read, the export. */
    private readonly store?: EngineLayerStore,
  ) {}

  /** How the last `indexed` found its layers (the bench and the tests). */
  lastPath: 'cache' | 'store' | 'export' = 'cache';
  readonly storeTimings: StoreTimings = { resolveMs: 0, readMs: 0 };

  /**
   * The layers from the engine API alone, without reading any layer. When the history cannot say which
   * steps made layers (and the image config is not cached yet), it reads the export once to be right.
   */
  async instant(docker: Docker, image: string, signal?: AbortSignal): Promise<InstantView> {
    const view = await this.fromHistory(docker, image);
    return view.certain ? view : (await this.indexed(docker, view.id, signal)).instant;
  }

  private async fromHistory(docker: Docker, image: string): Promise<InstantView> {
    const img = docker.getImage(image);
    const [info, history] = await Promise.all([img.inspect(), img.history() as Promise<unknown>]);
    const layers: unknown = info.RootFS?.Layers;
    const diffIds = Array.isArray(layers) ? layers.filter((d): d is string => typeof d === 'string') : [];
    const { rows, certain } = pairHistory(historyOf(history), diffIds, this.cache.config(info.Id));
    return { id: info.Id, tags: info.RepoTags ?? [], size: info.Size, created: info.Created, diffIds, rows, certain };
  }

  /**
   * Every layer's file index; reads `docker save` only for layers not in the cache, or for the image
   * config when the history alone cannot say which steps made layers. `signal`: the request went away.
   */
  async indexed(
    docker: Docker,
    image: string,
    signal?: AbortSignal,
  ): Promise<{ instant: InstantView; layers: LayerIndex[] }> {
    const instant = await this.fromHistory(docker, image);
    const stored = this.stored.get(docker);
    const cached = new Map(instant.diffIds.map((d) => [d, this.cache.get(d) ?? stored?.get(d)]));
    const missing = (d: string) => cached.get(d) === undefined;
    this.lastPath = 'cache';
    const sandbox = this.store?.sandboxOf(docker);
    if (instant.certain && sandbox && instant.diffIds.some(missing)) {
      const read = await this.store!.layers(sandbox, instant.diffIds, missing, this.storeTimings);
      if (read) {
        this.lastPath = 'store';
        const mine = stored ?? new Map<string, LayerEntry[]>();
        this.stored.set(docker, mine);
        for (const [diffId, entries] of read) {
          cached.set(diffId, entries);
          mine.set(diffId, entries);
        }
        // The oldest go first; the layers just read stay, for this answer's image.
        let kept = [...mine.values()].reduce((n, e) => n + e.length, 0);
        for (const [diffId, entries] of mine) {
          if (kept <= MAX_STORED_ENTRIES || read.has(diffId)) break;
          mine.delete(diffId);
          kept -= entries.length;
        }
      }
    }
    if (!instant.certain || instant.diffIds.some(missing)) {
      this.lastPath = 'export';
      // Throws on a limit or a bad export before anything of it is cached.
      const index = await this.readExport(docker, instant.id, (d) => cached.get(d) !== undefined, signal);
      for (const [diffId, entries] of index.layers) {
        // Only the image's own layers: an export may carry others, to fill the shared cache.
        if (!cached.has(diffId)) continue;
        this.cache.put(diffId, entries);
        cached.set(diffId, entries);
      }
      if (index.config) {
        if (configProven(index, instant.id)) this.cache.putConfig(instant.id, index.config);
        const history = historyOf(await docker.getImage(instant.id).history());
        Object.assign(instant, pairHistory(history, instant.diffIds, index.config));
      }
    }
    const layers = instant.diffIds.map((diffId) => ({ diffId, entries: cached.get(diffId) ?? [] }));
    return { instant, layers };
  }

  /** The image's export, read after this engine's other reads; shared with callers that want it meanwhile. */
  private readExport(
    docker: Docker,
    imageId: string,
    skip: (diffId: string) => boolean,
    signal?: AbortSignal,
  ): Promise<SaveIndex> {
    let engine = this.reads.get(docker);
    if (!engine) this.reads.set(docker, (engine = { queue: Promise.resolve(), images: new Map() }));
    let read = engine.images.get(imageId);
    if (!read) {
      const { images } = engine;
      const stop = new AbortController();
      const index = engine.queue
        .catch(() => undefined)
        .then(async () => {
          stop.signal.throwIfAborted();
          const save = await exportStream(docker, imageId, this.limits.idleMs ?? SAVE_LIMITS.idleMs, stop.signal);
          // Destroying the export closes the engine's connection; indexSaveTar fails at once.
          const end = () => save.destroy(stop.signal.reason as Error);
          stop.signal.addEventListener('abort', end, { once: true });
          try {
            return await indexSaveTar(save, skip, this.limits);
          } finally {
            stop.signal.removeEventListener('abort', end);
          }
        })
        .finally(() => images.delete(imageId));
      read = { index, waiting: 0, stop };
      engine.queue = index;
      images.set(imageId, read);
    }
    return waitFor(read, signal);
  }

  /** The image with each layer's added / modified / deleted figures, and its waste and efficiency. */
  async full(docker: Docker, image: string, signal?: AbortSignal): Promise<FullView> {
    const { instant, layers } = await this.indexed(docker, image, signal);
    const a = analyse(layers);
    return {
      ...instant,
      layers: a.layers.map((s, i) => ({ ...s, diffId: instant.diffIds[i]! })),
      totalBytes: a.totalBytes,
      wastedBytes: a.wastedBytes,
      efficiency: a.efficiency,
    };
  }

  /** One layer's files: its own changes, or the whole filesystem as it stands after it. */
  async files(
    docker: Docker,
    image: string,
    layer: number,
    mode: 'changes' | 'upto',
    signal?: AbortSignal,
  ): Promise<LayerFile[]> {
    const { layers } = await this.indexed(docker, image, signal);
    if (layer >= layers.length) throw new RangeError(`the image has ${layers.length} layers`);
    return mode === 'changes' ? layerChanges(layers, layer) : filesystemAt(layers, layer);
  }

  /** Which layers of the image added, changed or deleted a path. */
  async pathHistory(docker: Docker, image: string, path: string, signal?: AbortSignal): Promise<PathChange[]> {
    const { layers } = await this.indexed(docker, image, signal);
    return pathHistory(layers, path);
  }

  /** A container's thin writable layer: its changes (A/C/D) and sizes. */
  async container(docker: Docker, containerId: string): Promise<ContainerChanges> {
    const c = docker.getContainer(containerId);
    const [info, changes] = await Promise.all([
      (c.inspect as (o: object) => Promise<unknown>)({ size: true }) as Promise<
        Docker.ContainerInspectInfo & { SizeRw?: number; SizeRootFs?: number }
      >,
      c.changes() as Promise<unknown>,
    ]);
    const kinds = ['C', 'A', 'D'] as const;
    // Field by field: the engine is the learner's, and may answer anything.
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const size = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    return {
      id: text(info.Id),
      name: text(info.Name).replace(/^\//, ''),
      image: text(info.Config?.Image),
      sizeRw: size(info.SizeRw),
      sizeRootFs: size(info.SizeRootFs),
      changes: (Array.isArray(changes) ? changes : []).map((ch: { Path?: unknown; Kind?: unknown } | null) => ({
        path: text(ch?.Path),
        kind: kinds[size(ch?.Kind)] ?? 'C',
      })),
    };
  }
}
