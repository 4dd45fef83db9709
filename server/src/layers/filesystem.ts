// How a stack of layers becomes one filesystem, with OCI whiteout semantics, and what each layer adds,
// changes, deletes and wastes. Pure functions over layer indexes (no I/O), so every rule is testable.

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

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

export type LayerStats = {
  added: { count: number; bytes: number };
  modified: { count: number; bytes: number };
  deleted: { count: number; bytes: number };
  /** Bytes this layer contributes that a later layer overwrites or deletes. */
  wastedBytes: number;
};

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

/**
 * Applies layers in order. Within one layer, whiteouts and opaque markers act on *lower* layers only:
 * the same layer's entries stay whatever their order in the tar (dive applies them in tar order and can
 * hide a layer's own files). Duplicate layers (the same diffID twice) are applied twice, as the engine does.
 */
export function analyse(layers: LayerIndex[]): Analysis {
  const files = new Map<string, FileNode>();
  const stats: LayerStats[] = layers.map(() => ({
    added: { count: 0, bytes: 0 },
    modified: { count: 0, bytes: 0 },
    deleted: { count: 0, bytes: 0 },
    wastedBytes: 0,
  }));
  let totalBytes = 0;

  layers.forEach((layer, i) => {
    const s = stats[i]!;
    const markers = layer.entries.filter((e) => baseOf(e.path).startsWith(WHITEOUT));
    const entries = layer.entries.filter((e) => !baseOf(e.path).startsWith(WHITEOUT));
    const waste = (nodes: FileNode[]) => {
      for (const n of nodes) stats[n.layer]!.wastedBytes += storedBytes(n);
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
        waste(removed);
        s.deleted.count += removed.length;
        s.deleted.bytes += removed.reduce((n, r) => n + storedBytes(r), 0);
      } else {
        const target = (dir ? `${dir}/` : '') + baseOf(m.path).slice(WHITEOUT.length);
        const removed = removeSubtree(files, target);
        waste(removed);
        if (removed.length) {
          s.deleted.count += removed.length;
          s.deleted.bytes += removed.reduce((n, r) => n + storedBytes(r), 0);
        }
      }
    }

    // 2. This layer's own entries, in any order.
    const seenHere = new Set<string>();
    for (const e of entries) {
      const bytes = storedBytes(e);
      totalBytes += bytes;
      const lower = files.get(e.path);
      if (seenHere.has(e.path)) {
        // The same path twice in one layer: the later entry wins, the earlier one is waste.
        if (lower) stats[i]!.wastedBytes += storedBytes(lower);
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
  });

  const wastedBytes = stats.reduce((n, s) => n + s.wastedBytes, 0);
  return {
    files,
    layers: stats,
    totalBytes,
    wastedBytes,
    efficiency: totalBytes === 0 ? 1 : (totalBytes - wastedBytes) / totalBytes,
  };
}

export type TreeNode = {
  name: string;
  path: string;
  type: EntryType;
  size: number;
  layer: number;
  /** What the selected layer did here: added, modified, or nothing (inherited). */
  change?: 'A' | 'M';
  children?: TreeNode[];
};

/** The final filesystem as a tree, with per-directory sizes, marking what `layer` added or changed. */
export function toTree(a: Analysis, layers: LayerIndex[], layer?: number): TreeNode {
  const root: TreeNode = { name: '/', path: '', type: 'dir', size: 0, layer: 0, children: [] };
  const dirs = new Map<string, TreeNode>([['', root]]);
  const lowerPaths =
    layer === undefined ? undefined : new Set(layers.slice(0, layer).flatMap((l) => l.entries.map((e) => e.path)));
  const ensureDir = (p: string): TreeNode => {
    const existing = dirs.get(p);
    if (existing) return existing;
    const parent = ensureDir(parentOf(p));
    const node: TreeNode = { name: baseOf(p), path: p, type: 'dir', size: 0, layer: 0, children: [] };
    parent.children!.push(node);
    dirs.set(p, node);
    return node;
  };
  for (const [p, f] of [...a.files.entries()].sort(([x], [y]) => x.localeCompare(y))) {
    const change = layer !== undefined && f.layer === layer ? (lowerPaths!.has(p) ? 'M' : 'A') : undefined;
    if (f.type === 'dir') {
      const d = ensureDir(p);
      Object.assign(d, { layer: f.layer, change });
      continue;
    }
    const parent = ensureDir(parentOf(p));
    parent.children!.push({ name: baseOf(p), path: p, type: f.type, size: storedBytes(f), layer: f.layer, change });
  }
  const sum = (n: TreeNode): number => (n.children ? (n.size = n.children.reduce((t, c) => t + sum(c), 0)) : n.size);
  sum(root);
  return root;
}
