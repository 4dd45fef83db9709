import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { chainIds, indexTarSplit } from './layerStore';
import { SAVE_LIMITS } from './saveTar';

/** A tar as tar-stream packs it. */
async function tarOf(entries: [Partial<tar.Header> & { name: string }, string?][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [h, body] of entries) pack.entry(h as tar.Header, body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The tar-split Docker would store for a tar: its raw header bytes, and each member's size (no content). */
function tarSplitOf(t: Buffer): Buffer {
  const lines: object[] = [];
  let seg: Buffer[] = [];
  for (let at = 0; at < t.length;) {
    const h = t.subarray(at, at + 512);
    at += 512;
    seg.push(h);
    if (h.every((b) => b === 0)) continue;
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const padded = Math.ceil(size / 512) * 512;
    if ('xgLK'.includes(String.fromCharCode(h[156]!))) {
      seg.push(t.subarray(at, at + padded));
      at += padded;
      continue;
    }
    lines.push({ type: 2, payload: Buffer.concat(seg).toString('base64') });
    seg = [];
    lines.push(size ? { type: 1, name: 'member', size } : { type: 1, name: 'member' });
    at += size;
    seg.push(t.subarray(at, at + padded - size));
    at += padded - size;
  }
  lines.push({ type: 2, payload: Buffer.concat(seg).toString('base64') });
  return gzipSync(lines.map((l) => JSON.stringify(l)).join('\n'));
}

describe('a layer from its tar-split', () => {
  it('reads every header as the export would, content left out: long names, links, whiteouts', async () => {
    const long = `dir/${'n'.repeat(140)}`;
    const t = await tarOf([
      [{ name: 'dir/', type: 'directory', mode: 0o755 }],
      [{ name: 'dir/file', mode: 0o4755, uid: 12, gid: 34 }, 'hello'],
      [{ name: long, mode: 0o644 }, 'x'.repeat(1000)],
      [{ name: 'dir/hard', type: 'link', linkname: 'dir/file' }],
      [{ name: 'dir/sym', type: 'symlink', linkname: '/etc/shadow' }],
      [{ name: 'dir/.wh.gone', mode: 0o600 }, ''],
    ]);
    expect(await indexTarSplit(tarSplitOf(t))).toEqual([
      { path: 'dir', type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0 },
      { path: 'dir/file', type: 'file', size: 5, mode: 0o4755, uid: 12, gid: 34 },
      { path: long, type: 'file', size: 1000, mode: 0o644, uid: 0, gid: 0 },
      { path: 'dir/hard', type: 'hardlink', size: 0, mode: 0o644, uid: 0, gid: 0, linkTarget: 'dir/file' },
      { path: 'dir/sym', type: 'symlink', size: 0, mode: 0o644, uid: 0, gid: 0, linkTarget: '/etc/shadow' },
      { path: 'dir/.wh.gone', type: 'file', size: 0, mode: 0o600, uid: 0, gid: 0 },
    ]);
  });

  it('refuses what is not a tar-split, and stops at the entry limit, in words', async () => {
    await expect(indexTarSplit(Buffer.from('not gzip'))).rejects.toThrow(
      /^your engine's layer store could not be read: a tar-split is not gzip/,
    );
    await expect(indexTarSplit(gzipSync('{"type":2,'))).rejects.toThrow(/a tar-split line is not JSON/);
    await expect(indexTarSplit(gzipSync('{"type":7}'))).rejects.toThrow(/a tar-split line is of no known type/);
    const t = await tarOf([
      [{ name: 'a' }, 'a'],
      [{ name: 'b' }, 'b'],
      [{ name: 'c' }, 'c'],
    ]);
    await expect(indexTarSplit(tarSplitOf(t), { ...SAVE_LIMITS, entries: 2 })).rejects.toThrow(
      /a layer has more than 2 files/,
    );
  });

  it("computes chain ids as Docker's image spec does", () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    // sha256 of "sha256:aaa… sha256:bbb…"
    expect(chainIds([a, b])).toEqual([a, 'sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c']);
  });
});
