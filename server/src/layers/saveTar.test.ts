import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { indexSaveTar } from './saveTar';

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
});
