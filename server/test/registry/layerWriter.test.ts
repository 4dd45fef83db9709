// Layers as Docker reads them: the digest names the gzip bytes, the diffID the tar inside; a diff layer
// carries what was added or changed and a `.wh.` whiteout for each top-most removed path.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { diffTrees, writeDirectoryLayer, writeLayer } from '../../src/images/layerWriter';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ds-layers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(root: string, files: Record<string, string | { link: string }>): void {
  for (const [p, content] of Object.entries(files)) {
    const full = path.join(root, p);
    mkdirSync(path.dirname(full), { recursive: true });
    if (typeof content === 'string') {
      writeFileSync(full, content);
      utimesSync(full, 1_700_000_000, 1_700_000_000);
    } else symlinkSync(content.link, full);
  }
}

async function entries(file: string): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    names.push(h.type === 'symlink' ? `${h.name} -> ${h.linkname}` : h.name);
    stream.resume();
    stream.on('end', next);
  });
  const done = new Promise<void>((resolve) => extract.on('finish', () => resolve()));
  extract.end(gunzipSync(readFileSync(file)));
  await done;
  return names;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('image layers', () => {
  it('names a layer by its gzip digest and identifies it by the diffID of the tar', async () => {
    const root = path.join(tmp, 'whole');
    tree(root, { 'bin/tool': 'x', 'etc/conf': 'y', 'bin/alias': { link: 'tool' } });
    const out = path.join(tmp, 'out1');
    mkdirSync(out);
    const layer = await writeDirectoryLayer(root, out);
    const gz = readFileSync(layer.file);
    expect(layer.digest).toBe(sha(gz));
    expect(layer.size).toBe(gz.length);
    expect(layer.diffId).toBe(sha(gunzipSync(gz)));
    expect(await entries(layer.file)).toEqual(['bin', 'bin/alias -> tool', 'bin/tool', 'etc', 'etc/conf']);
  });

  it('keeps what changed and whites out the top-most removed paths', async () => {
    const base = path.join(tmp, 'base');
    const next = path.join(tmp, 'next');
    tree(base, { 'keep/same': 'a', 'keep/changed': 'old', 'gone/dir/file': 'b', 'keep/removed': 'c' });
    tree(next, { 'keep/same': 'a', 'keep/changed': 'new!', 'keep/added': 'd', 'new/dir/file': 'e' });
    const diff = diffTrees(base, next);
    expect(diff).toEqual([
      { path: 'keep/added' },
      { path: 'keep/changed' },
      { path: 'new' },
      { path: 'new/dir' },
      { path: 'new/dir/file' },
      { path: '.wh.gone', whiteout: true },
      { path: 'keep/.wh.removed', whiteout: true },
    ]);
    const out = path.join(tmp, 'out2');
    mkdirSync(out);
    const layer = await writeLayer(next, diff, out);
    expect(await entries(layer.file)).toEqual(diff.map((e) => e.path));
  });
});
