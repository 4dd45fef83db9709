import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { EngineExportError, EngineLimitError, GiB, MiB, type Limit } from './limits';
import { configProven, indexSaveTar, SAVE_LIMITS } from './saveTar';

type Item = { name: string; body?: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string };

async function makeTar(items: Item[]): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  pack.on('data', (d: unknown) => out.push(d as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const i of items)
    pack.entry({ name: i.name, type: i.type ?? 'file', linkname: i.linkname, mode: 0o644 }, i.body ?? '');
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function saveBytes(files: { name: string; data: Buffer }[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of await saveStream(files)) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

async function saveStream(files: { name: string; data: Buffer }[]): Promise<Readable> {
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name, size: f.data.length }, f.data);
  pack.finalize();
  const s = new PassThrough();
  pack.pipe(s);
  return s;
}

async function layers() {
  const base = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hosts', body: '127.0.0.1 localhost\n' },
    { name: 'bin/busybox', body: 'BB' },
    { name: 'bin/sh', type: 'link', linkname: 'bin/busybox' },
  ]);
  const top = await makeTar([
    { name: 'app/', type: 'directory' },
    { name: 'app/.wh..wh..opq' },
    { name: 'etc/.wh.hosts' },
    { name: 'app/main.py', body: 'print(1)\n' },
  ]);
  const config = {
    rootfs: { type: 'layers', diff_ids: [sha(base), sha(top)] },
    history: [
      { created_by: '/bin/sh -c #(nop) ADD file:abc in /' },
      { created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      { created_by: '/bin/sh -c rm /etc/hosts && …' },
    ],
  };
  return { base, top, config };
}

describe('docker save reader', () => {
  it('reads the legacy layout', async () => {
    const { base, top, config } = await layers();
    const save = await saveStream([
      { name: 'aaa/layer.tar', data: base },
      { name: 'bbb/layer.tar', data: top },
      { name: 'cfg.json', data: Buffer.from(JSON.stringify(config)) },
      {
        name: 'manifest.json',
        data: Buffer.from(JSON.stringify([{ Config: 'cfg.json', Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }])),
      },
    ]);
    const index = await indexSaveTar(save);
    expect([...index.layers.keys()]).toEqual([sha(base), sha(top)]);
    expect(index.config?.history?.[1]?.empty_layer).toBe(true);
    const baseEntries = index.layers.get(sha(base))!;
    expect(baseEntries.map((e) => [e.path, e.type])).toEqual([
      ['etc', 'dir'],
      ['etc/hosts', 'file'],
      ['bin/busybox', 'file'],
      ['bin/sh', 'hardlink'],
    ]);
    expect(baseEntries[3]!.linkTarget).toBe('bin/busybox');
    expect(index.layers.get(sha(top))!.map((e) => e.path)).toContain('app/.wh..wh..opq');
  });

  it('reads the OCI layout with gzip layers and manifest.json last, skipping cached layers', async () => {
    const { base, top, config } = await layers();
    const gz = gzipSync(top);
    const cfg = Buffer.from(JSON.stringify(config));
    const blob = (b: Buffer) => `blobs/sha256/${createHash('sha256').update(b).digest('hex')}`;
    const files = [
      { name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      { name: 'index.json', data: Buffer.from('{"schemaVersion":2,"manifests":[]}') },
      { name: blob(base), data: base },
      { name: blob(gz), data: gz },
      { name: blob(cfg), data: cfg },
      { name: 'manifest.json', data: Buffer.from('[]') },
    ];
    const all = await indexSaveTar(await saveStream(files));
    expect(new Set(all.layers.keys())).toEqual(new Set([sha(base), sha(top)])); // gzip: diffID of the uncompressed tar
    expect(all.config?.rootfs?.diff_ids).toEqual([sha(base), sha(top)]);

    const partial = await indexSaveTar(await saveStream(files), (d) => d === sha(base));
    expect([...partial.layers.keys()]).toEqual([sha(top)]);
  });

  it('ties the config to an image id only through blobs whose bytes match their digest', async () => {
    // The containerd image store: the image id is the digest of an index, which names a manifest,
    // which names the config.
    const { base, config } = await layers();
    const cfg = Buffer.from(JSON.stringify(config));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: sha(cfg) }, layers: [] }));
    const imageIndex = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: sha(manifest) }] }));
    const forged = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: sha(cfg) } }));
    const blob = (b: Buffer) => `blobs/sha256/${sha(b).slice(7)}`;
    const index = await indexSaveTar(
      await saveStream([
        { name: blob(base), data: base },
        { name: blob(cfg), data: cfg },
        { name: blob(manifest), data: manifest },
        { name: blob(imageIndex), data: imageIndex },
        { name: `blobs/sha256/${'f'.repeat(64)}`, data: forged }, // not its digest
        { name: 'index.json', data: Buffer.from(JSON.stringify({ manifests: [{ digest: sha(imageIndex) }] })) },
      ]),
    );
    expect(index.configDigest).toBe(sha(cfg));
    expect(configProven(index, sha(cfg))).toBe(true); // the classic store
    expect(configProven(index, sha(manifest))).toBe(true);
    expect(configProven(index, sha(imageIndex))).toBe(true);
    expect(configProven(index, `sha256:${'f'.repeat(64)}`)).toBe(false);
    expect(configProven(index, sha(base))).toBe(false);
  });
});

// Hostile exports: what a learner's fake engine can send. Each is generated lazily (nothing close to
// its claimed size exists), and must be refused with the right limit, quickly, with its source destroyed.

/** A ustar header; sizes past 8 GiB in base-256, as GNU tar writes them. */
function header(name: string, size: number, type = '0'): Buffer {
  const b = Buffer.alloc(512);
  b.write(name.slice(0, 100), 0, 'utf8');
  b.write('0000644\0', 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  if (size < 8 ** 11) b.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  else {
    b[124] = 0x80;
    for (let i = 135, v = size; i > 124; i--, v = Math.floor(v / 256)) b[i] = v % 256;
  }
  b.write('00000000000\0', 136);
  b.write(type, 156);
  b.write('ustar\u000000', 257);
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return b;
}

/** A source that counts what it produced and records whether it was destroyed. */
function source(chunks: () => Iterable<Buffer> | AsyncIterable<Buffer>) {
  let produced = 0;
  const stream = Readable.from(
    (async function* () {
      for await (const c of chunks()) {
        produced += c.length;
        yield c;
      }
    })(),
    { objectMode: false },
  );
  return { stream, produced: () => produced };
}

const zeros = Buffer.alloc(64 * 1024);
function* endlessZeros(): Generator<Buffer> {
  for (;;) yield zeros;
}

/** An outer member claiming `size` bytes (1 TB unless told), then what `body` yields; padded, when it ends. */
function* member(name: string, body: Iterable<Buffer>, size = 2 ** 40): Generator<Buffer> {
  yield header(name, size);
  yield* body;
  yield Buffer.alloc((512 - (size % 512)) % 512);
  yield Buffer.alloc(1024); // end of archive
}

/** An endless layer tar of empty files. */
function* endlessEntries(name = (i: number) => `f/${i}`): Generator<Buffer> {
  for (let i = 0; ; i++) yield header(name(i), 0);
}

async function refused(
  src: ReturnType<typeof source>,
  limits: Parameters<typeof indexSaveTar>[2],
  limit: Limit,
  message: RegExp,
): Promise<EngineLimitError> {
  const t = Date.now();
  const err = await indexSaveTar(src.stream, undefined, limits).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngineLimitError);
  expect((err as EngineLimitError).limit).toBe(limit);
  expect((err as EngineLimitError).message).toMatch(message);
  expect(src.stream.destroyed).toBe(true);
  expect(Date.now() - t).toBeLessThan(5000);
  return err as EngineLimitError;
}

const memory = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;

describe('docker save reader, against a hostile engine', () => {
  it('has the limits a real image fits in', () => {
    expect(SAVE_LIMITS).toMatchObject({
      bytes: 32 * GiB,
      entries: 2_000_000,
      layers: 256,
      json: 4 * MiB,
      path: 4096,
      timeMs: 600_000,
      idleMs: 60_000,
    });
  });

  it('an engine that sends an endless export is cut off at the byte limit, in bounded memory', async () => {
    let peak = 0;
    const base = memory();
    const src = source(function* () {
      let n = 0;
      for (const chunk of member('aaa/blob', endlessZeros())) {
        if (++n % 64 === 0) peak = Math.max(peak, memory() - base);
        yield chunk;
      }
    });
    const err = await refused(src, { bytes: 256 * MiB }, 'bytes', /the image export is larger than 256 MiB/);
    expect(err.max).toBe(256 * MiB);
    expect(src.produced()).toBeGreaterThan(256 * MiB);
    expect(src.produced()).toBeLessThan(256 * MiB + 4 * MiB); // stopped at once, not read to the end
    expect(peak).toBeLessThan(64 * MiB); // 256 MiB went through; nothing of it was kept
  });

  it('an engine that sends a gzip bomb as a layer is cut off at the byte limit once unpacked', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB)); // 64 kB that unpack to 64 MiB
    const src = source(() => member('aaa/layer.tar', [bomb], bomb.length));
    await refused(src, { bytes: 8 * MiB }, 'bytes', /layers unpack to more than 8 MiB/);
  });

  it('an engine that sends a layer of endless files is cut off at the entry limit, in bounded memory', async () => {
    const base = memory();
    const src = source(() => member('aaa/layer.tar', endlessEntries()));
    await refused(src, { entries: 100_000 }, 'entries', /more than 100,000 files; the Layers view stops there/);
    expect(src.produced()).toBeLessThan(100_000 * 512 + 4 * MiB);
    expect(memory() - base).toBeLessThan(64 * MiB);
  });

  it('an engine that sends an endless list of members is cut off at the entry limit too', async () => {
    const src = source(function* () {
      for (let i = 0; ; i++) yield header(`d${i}/`, 0, '5');
    });
    await refused(src, { entries: 10_000 }, 'entries', /more than 10,000 files/);
  });

  it('an engine whose manifest.json header claims 100 GB is refused before a byte of it is buffered', async () => {
    const base = memory();
    const src = source(() => member('manifest.json', endlessZeros(), 100e9));
    const err = await refused(
      src,
      undefined,
      'json',
      /^manifest\.json in the image export is 93\.1 GiB, more than the 4 MiB the Layers view reads of a JSON file$/,
    );
    expect(err.max).toBe(4 * MiB);
    expect(src.produced()).toBeLessThan(4 * MiB);
    expect(memory() - base).toBeLessThan(32 * MiB);
  });

  it('an engine that sends a config blob over the JSON limit gets it read as a layer, not buffered', async () => {
    // In the OCI layout a blob's name says nothing of its kind: a big one is streamed (here: not a tar).
    const big = Buffer.alloc(5 * MiB, '{');
    const save = await saveStream([{ name: `blobs/sha256/${'a'.repeat(64)}`, data: big }]);
    const index = await indexSaveTar(save);
    expect(index.layers.size).toBe(0);
    expect(index.config).toBeUndefined();
  });

  it('an engine that stalls in the middle of the export is cut off at the idle limit', async () => {
    const src = source(async function* () {
      yield header('aaa/layer.tar', 1024);
      await new Promise(() => {}); // never more
    });
    await refused(
      src,
      { idleMs: 200 },
      'idle',
      /your engine sent nothing for 200 ms in the middle of the image export/,
    );
  });

  it('an engine that trickles the export is cut off at the time limit', async () => {
    const src = source(async function* () {
      yield header('aaa/layer.tar', 2 ** 40);
      for (;;) {
        await new Promise((r) => setTimeout(r, 10));
        yield Buffer.alloc(1);
      }
    });
    await refused(src, { timeMs: 300, idleMs: 200 }, 'time', /took longer than 300 ms to send the image export/);
  });

  it('an engine that sends a layer with a 100 kB path is refused at the path limit', async () => {
    const layer = await makeTar([{ name: `${'a/'.repeat(50_000)}x`, body: 'x' }]); // a pax header
    const src = source(() => member('aaa/layer.tar', [layer], layer.length));
    await refused(
      src,
      undefined,
      'path',
      /a file path in the image export is 100,001 characters long, more than the 4,096/,
    );
  });

  it('an engine that sends a symlink with a 100 kB target is refused at the path limit', async () => {
    const layer = await makeTar([{ name: 'bin/sh', type: 'symlink', linkname: 'b'.repeat(100_000) }]);
    const src = source(() => member('aaa/layer.tar', [layer], layer.length));
    await refused(src, undefined, 'path', /a link target in the image export is 100,000 characters long/);
  });

  it('an engine that names an export member with a 100 kB path is refused at the path limit', async () => {
    const save = await saveStream([{ name: `${'m/'.repeat(50_000)}manifest.json`, data: Buffer.from('[]') }]);
    await refused({ stream: save, produced: () => 0 }, undefined, 'path', /a file path in the image export/);
  });

  it('an engine that sends long names up to the entry limit is cut off at the names limit', async () => {
    const src = source(() =>
      member(
        'aaa/layer.tar',
        endlessEntries((i) => `${'n'.repeat(90)}${i}`),
      ),
    );
    await refused(src, { names: 1 * MiB }, 'names', /the file names in the image export add up to more than 1 MiB/);
  });

  it('an engine that sends 300 layers is refused at the layer limit', async () => {
    const src = source(async function* () {
      for (let i = 0; ; i++) {
        const layer = await makeTar([{ name: `l${i}` }]);
        yield header(`l${i}/layer.tar`, layer.length);
        yield layer; // a multiple of 512 bytes: no padding
      }
    });
    await refused(src, undefined, 'layers', /the image export has more than 256 layers/);
  });

  it('an engine that sends something else than a tar gets a clear error, not a hang', async () => {
    const html = Readable.from([Buffer.from('<html>' + ' '.repeat(600) + '</html>')]);
    const err = await indexSaveTar(html).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineExportError);
    expect(err).not.toBeInstanceOf(EngineLimitError);
    expect((err as Error).message).toMatch(/^the image export from your engine could not be read: .*tar/i);
  });

  it('an engine that ends the export in the middle of a layer gets a clear error', async () => {
    const { base } = await layers();
    const whole = await saveBytes([{ name: 'aaa/layer.tar', data: base }]);
    const err = await indexSaveTar(Readable.from([whole.subarray(0, 1500)])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineExportError);
    expect((err as Error).message).toMatch(/could not be read/);
  });

  it('an engine that closes the connection in the middle of a layer gets an error, not a crash', async () => {
    // Once an uncaught 'error' on the layer's stream ("Premature close") that took the process down.
    const body = Buffer.concat(
      await Promise.all([0, 1, 2].map((i) => makeTar([{ name: `f${i}`, body: 'x'.repeat(9000) }]))),
    );
    const whole = await saveBytes([{ name: 'aaa/layer.tar', data: body }]);
    const save = new PassThrough();
    save.write(whole.subarray(0, 12_000));
    setTimeout(() => save.destroy(new Error('aborted')), 20);
    const err = await indexSaveTar(save).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineExportError);
    await new Promise((r) => setTimeout(r, 50)); // any late 'error' would surface as an uncaught exception
  });

  it('still reads a layer whose first bytes arrive in pieces smaller than a tar header', async () => {
    const { base } = await layers();
    const whole = await saveBytes([{ name: 'aaa/layer.tar', data: base }]);
    const pieces = [whole.subarray(0, 600)];
    for (let at = 600; at < whole.length; at += 100) pieces.push(whole.subarray(at, at + 100));
    const index = await indexSaveTar(Readable.from(pieces));
    expect([...index.layers.keys()]).toEqual([sha(base)]);
  });
});
