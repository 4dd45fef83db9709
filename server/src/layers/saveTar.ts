// Reads `docker save` output (GET /images/{id}/get) as a stream, headers only: the legacy layout
// (<id>/layer.tar, manifest.json) and the OCI layout of Docker 25+ (blobs/sha256/…, index.json, with
// manifest.json last), gzip or plain layers. A layer's diffID is the sha256 of its uncompressed tar,
// computed while reading, so layers already in the cache are skipped without knowing the layout.
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { normalisePath, type EntryType, type LayerEntry } from './filesystem';

export type ImageConfig = {
  rootfs?: { diff_ids?: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
};

export type SaveIndex = { layers: Map<string, LayerEntry[]>; config?: ImageConfig };

const TYPES: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
};
const MAX_JSON = 4 * 1024 * 1024;

/** The first bytes of a stream, leaving the rest unread (an async iterator would destroy it). */
function firstChunk(stream: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const done = (value: Buffer | null, err?: Error) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (err) reject(err);
      else resolve(value);
    };
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) done(chunk);
    };
    const onEnd = () => done(null);
    const onError = (err: Error) => done(null, err);
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** Index of one layer tar (plain or gzip) and its diffID. */
export async function indexLayer(stream: Readable): Promise<{ diffId: string; entries: LayerEntry[] } | null> {
  const head = await firstChunk(stream);
  if (!head) return null;
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const isTar = gzip || (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar');
  if (!isTar) {
    stream.resume();
    return null;
  }
  const source = new PassThrough();
  source.write(head);
  stream.pipe(source);
  const plain = gzip ? source.pipe(createGunzip()) : source;
  const hash = createHash('sha256');
  const extract = tar.extract();
  const entries: LayerEntry[] = [];
  const hashed = new PassThrough();
  hashed.on('data', (d: Buffer) => hash.update(d));
  const reading = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const path = normalisePath(h.name);
      if (path) {
        entries.push({
          path,
          type: TYPES[h.type ?? 'file'] ?? 'other',
          size: h.size ?? 0,
          mode: h.mode ?? 0,
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          ...(h.linkname ? { linkTarget: h.type === 'link' ? normalisePath(h.linkname) : h.linkname } : {}),
        });
      }
      entry.resume();
    }
  })();
  await Promise.all([pipeline(plain, hashed, extract), reading]);
  return { diffId: `sha256:${hash.digest('hex')}`, entries };
}

/**
 * Indexes every layer in a save stream. `skip(blobDigest)` lets OCI blobs whose digest is a cached
 * diffID (uncompressed layers) be drained unread.
 */
export async function indexSaveTar(
  save: Readable,
  skip: (diffId: string) => boolean = () => false,
): Promise<SaveIndex> {
  const extract = tar.extract();
  const layers = new Map<string, LayerEntry[]>();
  let config: ImageConfig | undefined;
  const reading = (async () => {
    for await (const entry of extract) {
      const name = entry.header.name;
      const blob = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
      if (entry.header.type !== 'file' || (blob && skip(`sha256:${blob[1]}`))) {
        entry.resume();
        continue;
      }
      if (name.endsWith('.json') || (blob && (entry.header.size ?? 0) < MAX_JSON && !/layer\.tar$/.test(name))) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        const buf = Buffer.concat(chunks);
        const parsed = parseJson(buf);
        if (parsed?.rootfs?.diff_ids) config = parsed;
        else if (blob && !parsed) {
          const layer = await indexLayer(bufferStream(buf));
          if (layer) layers.set(layer.diffId, layer.entries);
        }
        continue;
      }
      // tar-stream's entries are streamx streams; give indexLayer a Node stream.
      const layer = await indexLayer(Readable.from(entry, { objectMode: false }));
      if (layer) layers.set(layer.diffId, layer.entries);
    }
  })();
  await Promise.all([pipeline(save, extract), reading]);
  return { layers, config };
}

function parseJson(buf: Buffer): ImageConfig | null {
  if (buf[0] !== 0x7b) return null; // '{'
  try {
    return JSON.parse(buf.toString('utf8')) as ImageConfig;
  } catch {
    return null;
  }
}

function bufferStream(buf: Buffer): Readable {
  const s = new PassThrough();
  s.end(buf);
  return s;
}
