// Layer file lists from the engine's own layer store, without `docker save`. Docker's overlay2 layer store
// keeps, per layer (by chain id), its diff id and `tar-split.json.gz`: every tar header of the layer's
// original archive, which `docker save` reassembles the layer's tar from (with the file contents between).
// Reading those headers gives the same entries as the export, without reading a byte of content. The
// native `layerdb` command reads the files as the sandbox's root with no link followed; everything in
// them is the learner's, so every count and size is checked here as the export's are (limits.ts).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type Docker from 'dockerode';
import type tar from 'tar-stream';
import type { LayerEntry } from './filesystem';
import { bytesInWords, countInWords, EngineExportError, EngineLimitError, MiB } from './limits';
import { layerEntryOf, SAVE_LIMITS, type SaveLimits } from './saveTar';

type TarHeaders = {
  decode(buf: Buffer, encoding: string, allowUnknown: boolean): tar.Header | null;
  decodePax(buf: Buffer): Record<string, string>;
  decodeLongPath(buf: Buffer, encoding: string): string;
};
// tar-stream's own header decoder, so both paths read a header the same way (its exports map hides it).
const require = createRequire(import.meta.url);
const headers = require(path.join(path.dirname(require.resolve('tar-stream')), 'headers.js')) as TarHeaders;

/** The unpacked tar-split of one layer: 1.1 GB in 85,000 files is about 60 MB. */
const MAX_TAR_SPLIT_BYTES = 1024 * MiB;
/** Exit code of `layerdb` when the engine keeps no such layer there (native/README.md). */
const NO_LAYER = 10;

/** A layer's chain id (Docker's image spec): the first diff id, then sha256 of "parent diffID". */
export function chainIds(diffIds: string[]): string[] {
  const chains: string[] = [];
  for (const d of diffIds) {
    const parent = chains.at(-1);
    chains.push(parent ? `sha256:${createHash('sha256').update(`${parent} ${d}`).digest('hex')}` : d);
  }
  return chains;
}

const broken = (why: string) => new EngineExportError(`your engine's layer store could not be read: ${why}`);

/** The entries of a layer from its tar-split (gzipped JSON lines), as indexSaveTar reads its tar. */
export async function indexTarSplit(gz: Buffer, limits: SaveLimits = SAVE_LIMITS): Promise<LayerEntry[]> {
  const json = await promisify(gunzip)(gz, { maxOutputLength: MAX_TAR_SPLIT_BYTES }).catch((err: Error) => {
    throw (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      ? new EngineLimitError(
          'bytes',
          MAX_TAR_SPLIT_BYTES,
          `a layer's headers unpack to more than ${bytesInWords(MAX_TAR_SPLIT_BYTES)}`,
        )
      : broken(`a tar-split is not gzip (${err.message})`);
  });
  // Type 2: raw bytes of the archive (headers, padding); type 1: a member's content, left out, with its size.
  const raw: Buffer[] = [];
  const sizes: number[] = []; // per member, in order
  for (let at = 0; at < json.length;) {
    let end = json.indexOf(0x0a, at);
    if (end < 0) end = json.length;
    const line = json.subarray(at, end);
    at = end + 1;
    if (line.length === 0) continue;
    let rec: { type?: unknown; payload?: unknown; size?: unknown };
    try {
      rec = JSON.parse(line.toString('utf8')) as typeof rec;
    } catch {
      throw broken('a tar-split line is not JSON');
    }
    if (rec.type === 2 && typeof rec.payload === 'string') raw.push(Buffer.from(rec.payload, 'base64'));
    else if (rec.type === 1) {
      // tar-split leaves out a size of 0.
      const size =
        rec.size === undefined ? 0 : Number.isSafeInteger(rec.size) && Number(rec.size) >= 0 ? Number(rec.size) : -1;
      if (size < 0) throw broken('a tar-split member has no size');
      sizes.push(size);
      raw.push(Buffer.alloc(0));
    } else throw broken('a tar-split line is of no known type');
  }
  const bytes = Buffer.concat(raw);
  const entries: LayerEntry[] = [];
  let names = 0;
  let member = 0;
  let pax: Record<string, string> | null = null;
  let longPath: string | null = null;
  let longLink: string | null = null;
  const pad = (n: number) => (512 - (n % 512)) % 512;
  for (let at = 0; at + 512 <= bytes.length;) {
    let h: tar.Header | null;
    try {
      h = headers.decode(bytes.subarray(at, at + 512), 'utf-8', false);
    } catch (err) {
      throw broken((err as Error).message);
    }
    at += 512;
    if (!h) continue; // the archive's end blocks
    const size = h.size ?? 0;
    const kind = h.type as string | undefined; // tar-stream's typings leave out the long-header types
    if (
      kind === 'pax-header' ||
      kind === 'pax-global-header' ||
      kind === 'gnu-long-path' ||
      kind === 'gnu-long-link-path'
    ) {
      if (size > limits.json)
        throw new EngineLimitError('json', limits.json, `a tar header is larger than ${bytesInWords(limits.json)}`);
      const body = bytes.subarray(at, at + size);
      at += size + pad(size);
      if (kind === 'pax-header') pax = headers.decodePax(body);
      else if (kind === 'gnu-long-path') longPath = headers.decodeLongPath(body, 'utf-8');
      else if (kind === 'gnu-long-link-path') longLink = headers.decodeLongPath(body, 'utf-8');
      continue;
    }
    // As tar-stream applies them (extract.js, _applyLongHeaders).
    if (longPath) h.name = longPath;
    if (longLink) h.linkname = longLink;
    if (pax?.path) h.name = pax.path;
    if (pax?.linkpath) h.linkname = pax.linkpath;
    if (pax?.size) h.size = parseInt(pax.size, 10);
    pax = longPath = longLink = null;
    // The member's content is not in the tar-split; the padding after it is.
    const content = sizes[member++];
    if (content === undefined) throw broken('a tar-split has fewer members than headers');
    at += pad(content);
    if (entries.length >= limits.entries)
      throw new EngineLimitError(
        'entries',
        limits.entries,
        `a layer has more than ${countInWords(limits.entries)} files`,
      );
    if (h.name.length > limits.path || (h.linkname?.length ?? 0) > limits.path)
      throw new EngineLimitError(
        'path',
        limits.path,
        `a path in a layer is longer than ${countInWords(limits.path)} characters`,
      );
    const e = layerEntryOf(h);
    if (!e) continue;
    names += e.path.length + (e.linkTarget?.length ?? 0);
    if (names > limits.names)
      throw new EngineLimitError('names', limits.names, `a layer's paths take more than ${bytesInWords(limits.names)}`);
    entries.push(e);
  }
  return entries;
}

const READS_AT_ONCE = 4;

/** fn over every item, at most `n` at a time; the results in the items' order. */
async function inTurns<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

/** What one read of the store took, for the bench. */
export type StoreTimings = { resolveMs: number; readMs: number };

/**
 * The overlay2 layer store of sandboxes' engines, through the runtime's `layerdb`. `layers` answers
 * undefined when the engine keeps them elsewhere (another graph driver, the containerd image store): the
 * caller reads the export instead.
 */
export class EngineLayerStore {
  constructor(
    private readonly bin: string,
    private readonly dataDir: string,
    private readonly limits: SaveLimits = SAVE_LIMITS,
  ) {}

  /** The sandbox whose engine this client talks to, if it is one of this runtime's sockets. */
  sandboxOf(docker: Docker): string | undefined {
    const socket = (docker.modem as { socketPath?: unknown }).socketPath;
    if (typeof socket !== 'string') return undefined;
    const m = /^([a-z0-9][a-z0-9-]{0,39})\/run\/docker\.sock$/.exec(
      path.relative(path.join(this.dataDir, 'sandboxes'), socket),
    );
    return m?.[1];
  }

  /** Each layer's entries by diff id, or undefined when the store does not hold them all. */
  async layers(
    sandboxId: string,
    allDiffIds: string[],
    wanted: (diffId: string) => boolean,
    timings?: StoreTimings,
  ): Promise<Map<string, LayerEntry[]> | undefined> {
    const chains = chainIds(allDiffIds);
    const todo = allDiffIds.flatMap((diffId, i) =>
      wanted(diffId) ? [{ diffId, chain: chains[i]!.slice('sha256:'.length) }] : [],
    );
    // A few reads at a time: each is a process, most of a layer's time is spent waiting for it.
    let t = performance.now();
    const diffs = await inTurns(todo, READS_AT_ONCE, ({ chain }) => this.read(sandboxId, chain, 'diff'));
    if (diffs.some((d) => d === undefined)) return undefined;
    for (const [i, { diffId, chain }] of todo.entries())
      // The layer the chain names must be the one asked for; a store that says otherwise is not read.
      if (diffs[i]!.toString('utf8').trim() !== diffId)
        throw broken(`layer ${chain.slice(0, 12)} names another diff id`);
    if (timings) timings.resolveMs += performance.now() - t;
    t = performance.now();
    const splits = await inTurns(todo, READS_AT_ONCE, async ({ chain }) => {
      const split = await this.read(sandboxId, chain, 'tar-split');
      return split && indexTarSplit(split, this.limits);
    });
    if (timings) timings.readMs += performance.now() - t;
    if (splits.some((e) => e === undefined)) return undefined;
    return new Map(todo.map(({ diffId }, i) => [diffId, splits[i]!]));
  }

  private read(sandboxId: string, chainId: string, file: 'diff' | 'tar-split'): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, ['layerdb', sandboxId, chainId, file], {
        env: { PATH: process.env.PATH, DOCKSIDE_DATA_DIR: this.dataDir } as unknown as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: this.limits.timeMs,
        killSignal: 'SIGKILL',
      });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(Buffer.concat(out));
        else if (code === NO_LAYER) resolve(undefined);
        else reject(broken(err.trim().split('\n').at(-1) || `layerdb exited with ${code}`));
      });
    });
  }
}
