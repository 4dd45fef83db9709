// The layer analyzer: the instant view from the engine API (image JSON and history), and file trees per
// layer from `docker save`, cached on disk by diffID (layers are immutable: a layer shared by ten
// images is read once).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import type Docker from 'dockerode';
import {
  analyse,
  filesystemAt,
  layerChanges,
  pathHistory,
  type LayerEntry,
  type LayerFile,
  type LayerIndex,
  type LayerStats,
} from './filesystem';
import { indexSaveTar, type ImageConfig } from './saveTar';

export type LayerRow = {
  /** Position in the history, oldest first. */
  index: number;
  /** The layer's diffID, null for metadata-only steps, "(missing)" when history and layers disagree. */
  diffId: string | null;
  createdBy: string;
  created: string | null;
  size: number;
  emptyLayer: boolean;
  comment?: string;
};

export type InstantView = {
  id: string;
  tags: string[];
  size: number;
  created: string;
  rows: LayerRow[];
  diffIds: string[];
};

export type FullView = InstantView & {
  layers: (LayerStats & { diffId: string })[];
  totalBytes: number;
  wastedBytes: number;
  efficiency: number;
};

type HistoryItem = { Created: number; CreatedBy: string; Size: number; Comment?: string; Tags?: string[] | null };

/**
 * Pairs history entries (oldest first) with diffIDs. With the image config, `empty_layer` says which
 * steps have no layer; without it, classic-builder metadata steps ("#(nop)" other than ADD/COPY) and
 * zero-size steps beyond the layer count are taken as empty.
 */
export function pairHistory(history: HistoryItem[], diffIds: string[], config?: ImageConfig): LayerRow[] {
  const oldestFirst = [...history].reverse();
  const flags = config?.history?.map((h) => Boolean(h.empty_layer));
  const guessEmpty = (h: HistoryItem) =>
    /#\(nop\)/.test(h.CreatedBy) && !/#\(nop\)\s+(ADD|COPY)\b/.test(h.CreatedBy) && h.Size === 0;
  const empty = flags && flags.length === oldestFirst.length ? flags : oldestFirst.map(guessEmpty);
  let next = 0;
  return oldestFirst.map((h, index) => {
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
}

export class LayerCache {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(diffId: string): string {
    const hex = /^sha256:([0-9a-f]{64})$/.exec(diffId)?.[1];
    if (!hex) throw new Error(`not a diffID: ${diffId}`);
    return path.join(this.dir, `${hex}.json.gz`);
  }

  get(diffId: string): LayerEntry[] | undefined {
    try {
      return JSON.parse(gunzipSync(readFileSync(this.file(diffId))).toString('utf8')) as LayerEntry[];
    } catch {
      return undefined;
    }
  }

  has(diffId: string): boolean {
    return this.get(diffId) !== undefined;
  }

  put(diffId: string, entries: LayerEntry[]): void {
    const target = this.file(diffId);
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, gzipSync(JSON.stringify(entries)));
    renameSync(tmp, target);
  }
}

export class LayerAnalyzer {
  constructor(private readonly cache: LayerCache) {}

  async instant(docker: Docker, image: string): Promise<InstantView> {
    const img = docker.getImage(image);
    const [info, history] = await Promise.all([img.inspect(), img.history() as Promise<HistoryItem[]>]);
    const diffIds = info.RootFS?.Layers ?? [];
    return {
      id: info.Id,
      tags: info.RepoTags ?? [],
      size: info.Size,
      created: info.Created,
      diffIds,
      rows: pairHistory(history, diffIds),
    };
  }

  /** Every layer's file index; reads `docker save` only for layers not in the cache. */
  async indexed(docker: Docker, image: string): Promise<{ instant: InstantView; layers: LayerIndex[] }> {
    const instant = await this.instant(docker, image);
    if (!instant.diffIds.every((d) => this.cache.has(d)) || instant.rows.some((r) => r.diffId === '(missing)')) {
      const save = (await docker.getImage(instant.id).get()) as unknown as Readable;
      const index = await indexSaveTar(save, (d) => this.cache.has(d));
      for (const [diffId, entries] of index.layers) this.cache.put(diffId, entries);
      if (index.config) {
        const history = (await docker.getImage(instant.id).history()) as HistoryItem[];
        instant.rows = pairHistory(history ?? [], instant.diffIds, index.config);
      }
    }
    const layers = instant.diffIds.map((diffId) => ({ diffId, entries: this.cache.get(diffId) ?? [] }));
    return { instant, layers };
  }

  /** The image with each layer's added / modified / deleted figures, and its waste and efficiency. */
  async full(docker: Docker, image: string): Promise<FullView> {
    const { instant, layers } = await this.indexed(docker, image);
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
  async files(docker: Docker, image: string, layer: number, mode: 'changes' | 'upto'): Promise<LayerFile[]> {
    const { layers } = await this.indexed(docker, image);
    if (layer >= layers.length) throw new RangeError(`the image has ${layers.length} layers`);
    return mode === 'changes' ? layerChanges(layers, layer) : filesystemAt(layers, layer);
  }

  /** Which layers of the image added, changed or deleted a path. */
  async pathHistory(docker: Docker, image: string, path: string) {
    const { layers } = await this.indexed(docker, image);
    return pathHistory(layers, path);
  }

  /** A container's thin writable layer: its changes (A/C/D) and sizes. */
  async container(docker: Docker, containerId: string) {
    const c = docker.getContainer(containerId);
    const [info, changes] = await Promise.all([
      (c.inspect as (o: object) => Promise<unknown>)({ size: true }) as Promise<
        Docker.ContainerInspectInfo & { SizeRw?: number; SizeRootFs?: number }
      >,
      c.changes() as Promise<{ Path: string; Kind: number }[] | null>,
    ]);
    const kinds = ['C', 'A', 'D'] as const;
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      image: info.Config.Image,
      sizeRw: info.SizeRw ?? 0,
      sizeRootFs: info.SizeRootFs ?? 0,
      changes: (changes ?? []).map((ch) => ({ path: ch.Path, kind: kinds[ch.Kind] ?? 'C' })),
    };
  }
}
