// Writes the lesson images' layers (for build.ts) as Docker stores them: gzip-compressed tars, named by
// the digest of the compressed bytes, identified by the diffID (digest of the uncompressed tar). A layer
// is either a whole directory or the difference between two root filesystems, with `.wh.` whiteouts for
// what was removed. (Reading a learner's image layers is server/src/layers/.)
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  lstatSync,
  readdirSync,
  readlinkSync,
  renameSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

export type Layer = { diffId: string; digest: string; size: number; file: string };

/** Every path under `root` (relative, sorted, directories before their contents). */
function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    out.push(p);
    const st = lstatSync(path.join(root, p));
    if (st.isDirectory()) out.push(...walk(root, p));
  }
  return out;
}

function sameEntry(a: Stats, b: Stats, root: string, other: string, p: string): boolean {
  if ((a.mode & 0o170000) !== (b.mode & 0o170000) || a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid)
    return false;
  if (a.isDirectory()) return true; // a directory's own entry only matters if its metadata changed
  if (a.isSymbolicLink()) return readlinkSync(path.join(root, p)) === readlinkSync(path.join(other, p));
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

type Entry = { path: string; whiteout?: boolean };

/** What `next` changed relative to `base`: added or modified paths, and the top-most removed ones. */
export function diffTrees(base: string, next: string): Entry[] {
  const basePaths = new Set(walk(base));
  const entries: Entry[] = [];
  for (const p of walk(next)) {
    const n = lstatSync(path.join(next, p));
    if (!basePaths.has(p)) {
      entries.push({ path: p });
      continue;
    }
    const b = lstatSync(path.join(base, p));
    if (!sameEntry(n, b, next, base, p)) entries.push({ path: p });
  }
  const nextPaths = new Set(walk(next));
  const removed = [...basePaths].filter((p) => !nextPaths.has(p)).sort();
  for (const p of removed) {
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    if (parent && !nextPaths.has(parent)) continue; // a whiteout of the parent covers it
    entries.push({ path: parent ? `${parent}/.wh.${path.basename(p)}` : `.wh.${p}`, whiteout: true });
  }
  return entries;
}

function hashing(hash: ReturnType<typeof createHash>, count?: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      if (count) count.bytes += chunk.length;
      cb(null, chunk);
    },
  });
}

/** Writes a layer of `entries` taken from `root` into `dir`; returns its ids. */
export async function writeLayer(
  root: string,
  entries: Entry[],
  dir: string,
  onProgress?: (done: number) => void,
): Promise<Layer> {
  const pack = tar.pack();
  const raw = createHash('sha256');
  const gz = createHash('sha256');
  const size = { bytes: 0 };
  const tmp = path.join(dir, `.layer-${process.pid}-${Date.now()}.tar.gz`);
  const out = new PassThrough();
  pack.pipe(out);
  const writing = pipeline(out, hashing(raw), createGzip({ level: 6 }), hashing(gz, size), createWriteStream(tmp));
  let done = 0;
  for (const e of entries) {
    if (e.whiteout) {
      await new Promise<void>((resolve, reject) =>
        pack.entry({ name: e.path, size: 0, mode: 0o600, uid: 0, gid: 0, mtime: new Date(0) }, '', (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      continue;
    }
    const full = path.join(root, e.path);
    const st = lstatSync(full);
    const header = { name: e.path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      await entry(pack, { ...header, type: 'directory' });
    } else if (st.isSymbolicLink()) {
      await entry(pack, { ...header, type: 'symlink', linkname: readlinkSync(full) });
    } else if (st.isFile()) {
      const stream = pack.entry({ ...header, type: 'file', size: st.size });
      await pipeline(createReadStream(full), stream);
    } // devices, fifos and sockets never belong in an image layer
    if (++done % 500 === 0) onProgress?.(done);
  }
  pack.finalize();
  await writing;
  const digest = `sha256:${gz.digest('hex')}`;
  const file = path.join(dir, `${digest.slice(7)}.tar.gz`);
  renameSync(tmp, file);
  return { diffId: `sha256:${raw.digest('hex')}`, digest, size: size.bytes, file };
}

function entry(pack: tar.Pack, header: Parameters<tar.Pack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}

/** A layer of a whole directory. */
export function writeDirectoryLayer(root: string, dir: string, onProgress?: (done: number) => void): Promise<Layer> {
  return writeLayer(
    root,
    walk(root).map((p) => ({ path: p })),
    dir,
    onProgress,
  );
}
