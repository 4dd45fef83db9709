// Reads `docker save` output (GET /images/{id}/get) as a stream, headers only: the legacy layout
// (<id>/layer.tar, manifest.json) and the OCI layout of Docker 25+ (blobs/sha256/…, index.json, with
// manifest.json last), gzip or plain layers. A layer's diffID is the sha256 of its uncompressed tar,
// computed while reading, so layers already in the cache are skipped without knowing the layout.
//
// The export comes from the learner's engine, so it is hostile input (see limits.ts): sizes are checked
// before anything is buffered, and the first limit passed stops the read at once, destroys the source
// (closing the engine connection) and throws an EngineLimitError. A stream that is not an export (not a
// tar, cut short, corrupt) throws an EngineExportError.
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { EntryType } from '@dockside/protocol';
import { normalisePath, type LayerEntry } from './filesystem';
import {
  asExportError,
  bytesInWords,
  countInWords,
  durationInWords,
  EngineLimitError,
  GiB,
  MiB,
  type EngineExportError,
  type Limit,
} from './limits';

export type ImageConfig = {
  rootfs?: { diff_ids?: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
};

export type SaveIndex = {
  layers: Map<string, LayerEntry[]>;
  config?: ImageConfig;
  /** The sha256 of the config's bytes: the image id, in the engine's classic image store. */
  configDigest?: string;
  /**
   * OCI manifests and indexes whose bytes match their digest, and the digests each names (its config,
   * its manifests): how a config is shown to belong to an image id that is a manifest or index digest.
   */
  links: Map<string, string[]>;
};

export type SaveLimits = {
  /** Bytes read from the export; also bytes of its layers once unpacked (gzip can unpack 1,000-fold). */
  bytes: number;
  /** Tar entries, every layer's and the export's own, together. */
  entries: number;
  layers: number;
  /** One JSON member (manifest.json, index.json, a config or manifest blob), from its tar header. */
  json: number;
  /** Characters of one path or link target. */
  path: number;
  /** Characters of all the paths and link targets kept, counted as JSON will write them. */
  names: number;
  /** The whole read. */
  timeMs: number;
  /** With no bytes from the engine. */
  idleMs: number;
};

export const SAVE_LIMITS: Readonly<SaveLimits> = Object.freeze({
  bytes: 32 * GiB, // a real 1.1 GB image of 85,000 files reads in about 16 s
  entries: 2_000_000,
  layers: 256, // Docker's own maximum is 127
  json: 4 * MiB,
  path: 4096, // PATH_MAX
  names: 256 * MiB, // with 2,000,000 entries, a layer's index stays well under V8's 512 MB string limit
  timeMs: 10 * 60_000,
  idleMs: 60_000,
});

const TYPES: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
};
/** A layer tar's header as the index keeps it; none for the layer's root ("./"). */
export function layerEntryOf(h: tar.Header): LayerEntry | undefined {
  const path = normalisePath(h.name);
  if (!path) return undefined;
  const linkTarget = h.linkname ? (h.type === 'link' ? normalisePath(h.linkname) : h.linkname) : undefined;
  return {
    path,
    type: TYPES[h.type ?? 'file'] ?? 'other',
    size: h.size ?? 0,
    mode: h.mode ?? 0,
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    ...(linkTarget !== undefined ? { linkTarget } : {}),
  };
}

/** Digests a manifest or index may name that are kept, and how many such blobs: enough for one image. */
const MAX_LINKS = 16;
const MAX_LINKED = 64;
// Characters JSON.stringify writes as escapes (up to 6 characters for one): a path with one counts 6-fold.
// eslint-disable-next-line no-control-regex -- control characters are the point
const ESCAPED = /[\u0000-\u001f"\\]/;

/** What the export has sent so far, against the limits; `stop` ends the read at the first one passed. */
class Budget {
  private read = 0;
  private unpacked = 0;
  private entries = 0;
  private layers = 0;
  private names = 0;
  private failure: EngineExportError | undefined;

  constructor(
    readonly limits: SaveLimits,
    private readonly onStop: (err: Error) => void,
  ) {}

  /** Ends the read with `err`, or with the failure that ended it already; returns the error to throw. */
  stop(err: EngineExportError): EngineExportError {
    if (!this.failure) {
      this.failure = err;
      this.onStop(err);
    }
    return this.failure;
  }

  private over(limit: Limit, max: number, message: string): never {
    throw this.stop(new EngineLimitError(limit, max, message));
  }

  bytesRead(n: number): void {
    const max = this.limits.bytes;
    if ((this.read += n) > max)
      this.over('bytes', max, `the image export is larger than ${bytesInWords(max)}; the Layers view stops there`);
  }

  bytesUnpacked(n: number): void {
    const max = this.limits.bytes;
    if ((this.unpacked += n) > max)
      this.over(
        'bytes',
        max,
        `the image's layers unpack to more than ${bytesInWords(max)}; the Layers view stops there`,
      );
  }

  /**
   * One tar entry: counted, and its path and link target checked before any other use (normalisePath's
   * regexes take time quadratic in a path's length, and tar-stream reads paths of up to 4 MiB).
   */
  entry(name: string, linkname: string | null | undefined): void {
    const { entries, path } = this.limits;
    if (++this.entries > entries)
      this.over(
        'entries',
        entries,
        `the image export has more than ${countInWords(entries)} files; the Layers view stops there`,
      );
    if (name.length > path) this.over('path', path, `a file path in the image export is ${tooLong(name.length, path)}`);
    if (linkname && linkname.length > path)
      this.over('path', path, `a link target in the image export is ${tooLong(linkname.length, path)}`);
  }

  /** What one indexed entry keeps in memory. */
  keep(path: string, linkTarget: string | undefined): void {
    const max = this.limits.names;
    this.names += cost(path) + (linkTarget ? cost(linkTarget) : 0);
    if (this.names > max)
      this.over(
        'names',
        max,
        `the file names in the image export add up to more than ${bytesInWords(max)}; the Layers view stops there`,
      );
  }

  layer(): void {
    const max = this.limits.layers;
    if (++this.layers > max)
      this.over(
        'layers',
        max,
        `the image export has more than ${countInWords(max)} layers; the Layers view stops there`,
      );
  }

  /** A JSON member, from the size in its tar header: refused before a byte of it is buffered. */
  json(name: string, size: number): void {
    const max = this.limits.json;
    if (size > max)
      this.over(
        'json',
        max,
        `${shortName(name)} in the image export is ${bytesInWords(size)}, more than the ${bytesInWords(max)} the Layers view reads of a JSON file`,
      );
  }
}

const tooLong = (n: number, max: number) =>
  `${countInWords(n)} characters long, more than the ${countInWords(max)} the Layers view accepts`;
const shortName = (name: string) => (name.length > 80 ? `${name.slice(0, 77)}…` : name);
const cost = (s: string) => (ESCAPED.test(s) ? 6 * s.length : s.length);

/**
 * Indexes every layer in a save stream. `skip(blobDigest)` lets OCI blobs whose digest is a cached
 * diffID (uncompressed layers) be drained unread. `limits` replaces some of SAVE_LIMITS (tests).
 */
export async function indexSaveTar(
  save: Readable,
  skip: (diffId: string) => boolean = () => false,
  limits: Partial<SaveLimits> = {},
): Promise<SaveIndex> {
  const extract = tar.extract();
  const budget = new Budget({ ...SAVE_LIMITS, ...limits }, (err) => {
    // Destroying the source closes the engine connection, so nothing more arrives or waits in a buffer.
    save.destroy();
    extract.destroy(err);
  });
  const { timeMs, idleMs } = budget.limits;
  const deadline = setTimeout(
    () =>
      budget.stop(
        new EngineLimitError(
          'time',
          timeMs,
          `your engine took longer than ${durationInWords(timeMs)} to send the image export; the Layers view stopped waiting`,
        ),
      ),
    timeMs,
  );
  const idle = setTimeout(
    () =>
      budget.stop(
        new EngineLimitError(
          'idle',
          idleMs,
          `your engine sent nothing for ${durationInWords(idleMs)} in the middle of the image export; the Layers view stopped waiting`,
        ),
      ),
    idleMs,
  );
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      idle.refresh();
      try {
        budget.bytesRead(chunk.length);
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
  });
  const index: SaveIndex = { layers: new Map(), links: new Map() };
  try {
    await Promise.all([pipeline(save, meter, extract), readSave(extract, skip, budget, index)]);
  } catch (err) {
    // Whatever failed first, nothing goes on reading: the first failure is the one reported.
    throw budget.stop(asExportError(err, 'the image export from your engine'));
  } finally {
    clearTimeout(deadline);
    clearTimeout(idle);
  }
  return index;
}

/**
 * Whether the export shows the config is the image's: the image id is the config's digest (the classic
 * image store), or the digest of a manifest, or of an index of manifests, that names it (the containerd
 * store); the reader keeps only manifests and indexes whose bytes match their digest.
 */
export function configProven(index: SaveIndex, imageId: string): boolean {
  const config = index.configDigest;
  if (!config) return false;
  if (config === imageId) return true;
  const named = index.links.get(imageId) ?? [];
  return named.includes(config) || named.some((m) => index.links.get(m)?.includes(config));
}

async function readSave(
  extract: tar.Extract,
  skip: (diffId: string) => boolean,
  budget: Budget,
  index: SaveIndex,
): Promise<void> {
  const maxJson = budget.limits.json;
  for await (const entry of extract) {
    const member = entry as AsyncIterable<Buffer>; // tar-stream's entries yield Buffers
    const { name, type, linkname } = entry.header;
    const size = entry.header.size ?? 0;
    budget.entry(name, linkname);
    const blob = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
    const digest = blob ? `sha256:${blob[1]}` : undefined;
    if (type !== 'file' || (digest && skip(digest))) {
      entry.resume();
      continue;
    }
    const isJson = name.endsWith('.json');
    if (isJson) budget.json(name, size);
    // Small blobs may be JSON (configs, manifests) or small layers: read whole, then told apart.
    if (isJson || (digest && size < maxJson)) {
      const buf = await readWhole(member, maxJson);
      const own = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
      const parsed = parseJson(buf);
      const config = parsed && configOf(parsed);
      if (config) {
        index.config = config;
        index.configDigest = own;
      } else if (parsed && digest === own && index.links.size < MAX_LINKED) {
        const named = linksOf(parsed);
        if (named.length > 0) index.links.set(own, named);
      } else if (digest && !parsed) {
        const layer = await indexLayer(once(buf), budget);
        if (layer) index.layers.set(layer.diffId, layer.entries);
      }
      continue;
    }
    const layer = await indexLayer(member, budget);
    if (layer) index.layers.set(layer.diffId, layer.entries);
  }
}

/** A member already known to be at most `max` bytes (from its header), checked again as it arrives. */
async function readWhole(entry: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += chunk.length;
    if (size > max) throw new Error(`a JSON member is longer than its tar header says`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Index of one layer tar (plain or gzip) and its diffID; null when the member is not a tar. */
async function indexLayer(
  member: AsyncIterable<Buffer>,
  budget: Budget,
): Promise<{ diffId: string; entries: LayerEntry[] } | null> {
  const chunks = member[Symbol.asyncIterator]();
  // Enough bytes to tell gzip from tar ("ustar" at 257): the member may arrive in smaller pieces.
  const first: Buffer[] = [];
  let have = 0;
  while (have < 262) {
    const next = await chunks.next();
    if (next.done) break;
    first.push(next.value);
    have += next.value.length;
  }
  const head = Buffer.concat(first);
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const isTar = gzip || (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar');
  if (!isTar) {
    // Drained, not destroyed: destroying a tar-stream entry destroys the whole export.
    while (!(await chunks.next()).done);
    return null;
  }
  budget.layer();
  async function* rest() {
    yield head;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const hash = createHash('sha256');
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      try {
        budget.bytesUnpacked(chunk.length);
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
  });
  const extract = tar.extract();
  const entries: LayerEntry[] = [];
  const reading = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      budget.entry(h.name, h.linkname);
      const e = layerEntryOf(h);
      if (e) {
        budget.keep(e.path, e.linkTarget);
        entries.push(e);
      }
      entry.resume();
    }
  })();
  const unpacking = gzip ? pipeline(rest, createGunzip(), meter, extract) : pipeline(rest, meter, extract);
  await Promise.all([unpacking, reading]);
  return { diffId: `sha256:${hash.digest('hex')}`, entries };
}

function parseJson(buf: Buffer): Record<string, unknown> | null {
  if (buf[0] !== 0x7b) return null; // '{'
  try {
    const value: unknown = JSON.parse(buf.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** An image config (it has rootfs.diff_ids), with only the fields the analyzer uses and of their types. */
function configOf(json: Record<string, unknown>): ImageConfig | null {
  const j = json as { rootfs?: { diff_ids?: unknown } | null; history?: unknown };
  const diffIds = j.rootfs?.diff_ids;
  if (!Array.isArray(diffIds)) return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const history = Array.isArray(j.history)
    ? j.history.map((h) => {
        const step = (h && typeof h === 'object' ? h : {}) as Record<string, unknown>;
        return {
          created: text(step.created),
          created_by: text(step.created_by),
          comment: text(step.comment),
          empty_layer: step.empty_layer === true,
        };
      })
    : undefined;
  return { rootfs: { diff_ids: diffIds.filter((d): d is string => typeof d === 'string') }, history };
}

/** The digests an OCI manifest (its config) or index (its manifests) names. */
function linksOf(json: Record<string, unknown>): string[] {
  const j = json as { config?: { digest?: unknown }; manifests?: unknown };
  const named = [
    j.config?.digest,
    ...(Array.isArray(j.manifests) ? j.manifests.slice(0, MAX_LINKS) : []).map(
      (m) => (m as { digest?: unknown } | null)?.digest,
    ),
  ];
  return named.filter((d): d is string => typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d));
}

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}
