// How a stack of layers becomes one filesystem, with OCI whiteout semantics, and what each layer adds,
// changes, deletes and wastes. Pure functions over layer indexes (no I/O), so every rule is testable.
import type { EntryType, LayerFile, LayerStats, PathChange } from '@dockside/protocol';

/** One tar entry of a layer: headers only, never contents. */
export type LayerEntry = {
  path: string; // normalised, no leading "./" or "/", no trailing "/"
  type: EntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  linkTarget?: string;
};

export type LayerIndex = { diffId: string; entries: LayerEntry[] };

export type FileNode = LayerEntry & { layer: number };

export type Analysis = {
  /** The final filesystem: every visible path and the layer that last wrote it. */
  files: Map<string, FileNode>;
  layers: LayerStats[];
  totalBytes: number;
  wastedBytes: number;
  /** Share of stored bytes that are still visible (1 = nothing wasted), as dive defines it. */
  efficiency: number;
};

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export function normalisePath(name: string): string {
  return name
    .replace(/^(\.\/|\/)+/, '')
    .replace(/\/+$/, '')
    .replace(/\/{2,}/g, '/');
}

const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const under = (p: string, dir: string) => dir === '' || p.startsWith(`${dir}/`);

/** Bytes an entry stores: regular files only, and a hardlink's data once (on its target). */
function storedBytes(e: LayerEntry): number {
  return e.type === 'file' ? e.size : 0;
}

/** Removes `root` and everything below it from the tree; returns what was removed. */
function removeSubtree(files: Map<string, FileNode>, root: string): FileNode[] {
  const removed: FileNode[] = [];
  for (const [p, node] of files)
    if (p === root || under(p, root)) {
      removed.push(node);
      files.delete(p);
    }
  return removed;
}

const noStats = (): LayerStats => ({
  added: { count: 0, bytes: 0 },
  modified: { count: 0, bytes: 0 },
  deleted: { count: 0, bytes: 0 },
  wastedBytes: 0,
});

/**
 * Applies layer `i` to `files`, counting into `stats` (its own, and waste for the lower layers it
 * hides); returns the bytes it stores. Whiteouts and opaque markers act on *lower* layers only: the
 * same layer's entries stay whatever their order in the tar (dive applies them in tar order and can
 * hide a layer's own files).
 */
function applyLayer(files: Map<string, FileNode>, layer: LayerIndex, i: number, stats: LayerStats[]): number {
  const s = stats[i]!;
  const markers = layer.entries.filter((e) => baseOf(e.path).startsWith(WHITEOUT));
  const entries = layer.entries.filter((e) => !baseOf(e.path).startsWith(WHITEOUT));
  const waste = (nodes: FileNode[]) => {
    for (const n of nodes) stats[n.layer]!.wastedBytes += storedBytes(n);
  };
  const deleted = (removed: FileNode[]) => {
    waste(removed);
    s.deleted.count += removed.length;
    s.deleted.bytes += removed.reduce((n, r) => n + storedBytes(r), 0);
  };

  // 1. Deletions from lower layers: opaque directories, then whiteouts.
  for (const m of markers) {
    const dir = parentOf(m.path);
    if (baseOf(m.path) === OPAQUE) {
      const removed: FileNode[] = [];
      for (const [p, node] of files)
        if (p !== dir && under(p, dir)) {
          removed.push(node);
          files.delete(p);
        }
      deleted(removed);
    } else {
      deleted(removeSubtree(files, (dir ? `${dir}/` : '') + baseOf(m.path).slice(WHITEOUT.length)));
    }
  }

  // 2. This layer's own entries, in any order.
  let bytesHere = 0;
  const seenHere = new Set<string>();
  for (const e of entries) {
    const bytes = storedBytes(e);
    bytesHere += bytes;
    const lower = files.get(e.path);
    if (seenHere.has(e.path)) {
      // The same path twice in one layer: the later entry wins, the earlier one is waste.
      if (lower) s.wastedBytes += storedBytes(lower);
    } else if (lower) {
      if (!(lower.type === 'dir' && e.type === 'dir')) {
        waste([lower]);
        s.modified.count++;
        s.modified.bytes += bytes;
      }
      // A file replaced by a directory (or the reverse) also replaces what was below it.
      if (lower.type === 'dir' && e.type !== 'dir') waste(removeSubtree(files, e.path).filter((n) => n !== lower));
    } else {
      s.added.count++;
      s.added.bytes += bytes;
    }
    seenHere.add(e.path);
    files.set(e.path, { ...e, layer: i });
  }
  return bytesHere;
}

/** Applies layers in order. Duplicate layers (the same diffID twice) are applied twice, as the engine does. */
export function analyse(layers: LayerIndex[]): Analysis {
  const files = new Map<string, FileNode>();
  const stats = layers.map(noStats);
  let totalBytes = 0;
  layers.forEach((layer, i) => (totalBytes += applyLayer(files, layer, i, stats)));
  const wastedBytes = stats.reduce((n, s) => n + s.wastedBytes, 0);
  return {
    files,
    layers: stats,
    totalBytes,
    wastedBytes,
    efficiency: totalBytes === 0 ? 1 : (totalBytes - wastedBytes) / totalBytes,
  };
}

/** The filesystem just below layer `k` and just after it, applying the lower layers once. */
function aroundLayer(layers: LayerIndex[], k: number) {
  const stats = layers.slice(0, k + 1).map(noStats);
  const after = new Map<string, FileNode>();
  layers.slice(0, k).forEach((layer, i) => applyLayer(after, layer, i, stats));
  const lower = new Map(after);
  applyLayer(after, layers[k]!, k, stats);
  return { lower, after };
}

/** What layer `k` itself did: the paths it added and modified, and those it deleted from lower layers. */
export function layerChanges(layers: LayerIndex[], k: number): LayerFile[] {
  const { lower, after } = aroundLayer(layers, k);
  const out: LayerFile[] = [];
  for (const [p, node] of lower) if (!after.has(p)) out.push({ ...fileOf(node), change: 'D' });
  for (const [p, node] of after) {
    if (node.layer !== k) continue;
    const below = lower.get(p);
    if (below && below.type === 'dir' && node.type === 'dir') continue; // a parent directory restated
    out.push({ ...fileOf(node), change: below ? 'M' : 'A' });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The filesystem as it stands after layer `k`, each path with its last writer; `k`'s own changes marked. */
export function filesystemAt(layers: LayerIndex[], k: number): LayerFile[] {
  const { lower, after } = aroundLayer(layers, k);
  return [...after.values()]
    .map((node) => {
      const below = lower.get(node.path);
      const restated = below?.type === 'dir' && node.type === 'dir';
      const change = node.layer === k && !restated ? (below ? 'M' : 'A') : null;
      return { ...fileOf(node), change } satisfies LayerFile;
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Which layers added, changed or deleted `path`, oldest first. */
export function pathHistory(layers: LayerIndex[], path: string): PathChange[] {
  const p = normalisePath(path);
  const out: PathChange[] = [];
  let exists: EntryType | null = null;
  layers.forEach((layer, i) => {
    // A whiteout of the path (or of a parent, or an opaque parent) deletes the lower copy...
    const deleted =
      exists !== null &&
      layer.entries.some((e) => {
        const dir = parentOf(e.path);
        const name = baseOf(e.path);
        if (name === OPAQUE) return p !== dir && under(p, dir);
        if (!name.startsWith(WHITEOUT)) return false;
        const target = (dir ? `${dir}/` : '') + name.slice(WHITEOUT.length);
        return p === target || under(p, target);
      });
    // ...and an entry in the same layer puts a new one in its place.
    const here = layer.entries.find((e) => e.path === p);
    if (here) {
      if (!(exists === 'dir' && here.type === 'dir' && !deleted)) out.push({ layer: i, change: exists ? 'M' : 'A' });
      exists = here.type;
    } else if (deleted) {
      out.push({ layer: i, change: 'D' });
      exists = null;
    }
  });
  return out;
}

function fileOf(node: FileNode): Omit<LayerFile, 'change'> {
  return {
    path: node.path,
    type: node.type,
    size: storedBytes(node),
    layer: node.layer,
    ...(node.linkTarget ? { linkTarget: node.linkTarget } : {}),
  };
}
