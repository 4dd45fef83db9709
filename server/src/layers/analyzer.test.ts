import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LayerCache, pairHistory } from './analyzer';

// The engine's history API lists the newest step first.
const history = [
  { Created: 3, CreatedBy: '/bin/sh -c #(nop)  CMD ["python3" "app.py"]', Size: 0 },
  { Created: 2, CreatedBy: '/bin/sh -c #(nop) COPY file:abc in /app ', Size: 120 },
  { Created: 2, CreatedBy: '/bin/sh -c #(nop) WORKDIR /app', Size: 0 },
  { Created: 1, CreatedBy: '/bin/sh -c #(nop) ADD file:def in / ', Size: 80_000_000 },
];

describe('history pairing', () => {
  it('gives layers to the steps that made them, oldest first, and none to metadata steps', () => {
    const { rows, certain } = pairHistory(history, ['sha256:a', 'sha256:b']);
    expect(rows.map((r) => r.diffId)).toEqual(['sha256:a', null, 'sha256:b', null]);
    expect(rows[0]!.createdBy).toMatch(/ADD file:def/);
    expect(certain).toBe(true);
  });

  it('gives a layer to a zero-byte WORKDIR when the layer count says it made one', () => {
    // WORKDIR /app creating the directory: a layer with one empty directory, 0 bytes.
    const { rows, certain } = pairHistory(history, ['sha256:a', 'sha256:w', 'sha256:b']);
    expect(rows.map((r) => r.diffId)).toEqual(['sha256:a', 'sha256:w', 'sha256:b', null]);
    expect(certain).toBe(true);
  });

  it('is not certain when zero-byte steps could go either way, and then the config decides', () => {
    const twoRuns = [
      { Created: 3, CreatedBy: '/bin/sh -c mkdir /b', Size: 0 },
      { Created: 2, CreatedBy: 'RUN /bin/sh -c mkdir /a # buildkit', Size: 0 },
      { Created: 1, CreatedBy: '/bin/sh -c #(nop) ADD file:def in / ', Size: 80_000_000 },
    ];
    expect(pairHistory(twoRuns, ['sha256:a', 'sha256:x']).certain).toBe(false);
    const config = { history: [{}, { empty_layer: true }, {}] };
    const paired = pairHistory(twoRuns, ['sha256:a', 'sha256:x'], config);
    expect(paired.rows.map((r) => r.diffId)).toEqual(['sha256:a', null, 'sha256:x']);
    expect(paired.certain).toBe(true);
  });

  it('trusts empty_layer from the image config over guesses', () => {
    const config = { history: [{}, { empty_layer: true }, {}, { empty_layer: true }] };
    const zeroCopy = history.map((h) => ({ ...h, Size: 0 }));
    expect(pairHistory(zeroCopy, ['sha256:a', 'sha256:b'], config).rows.map((r) => r.diffId)).toEqual([
      'sha256:a',
      null,
      'sha256:b',
      null,
    ]);
  });

  it('shows "(missing)" when history and layers disagree', () => {
    const paired = pairHistory(history, ['sha256:a']);
    expect(paired.rows.map((r) => r.diffId)).toEqual(['sha256:a', null, '(missing)', null]);
    expect(paired.certain).toBe(false);
  });
});

describe('layer cache', () => {
  it('keeps layer indexes by diffID and image configs by image id across instances', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-layers-'));
    try {
      const id = `sha256:${'ab'.repeat(32)}`;
      new LayerCache(dir).put(id, [{ path: 'etc', type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0 }]);
      expect(new LayerCache(dir).get(id)?.[0]?.path).toBe('etc');
      expect(new LayerCache(dir).has(`sha256:${'cd'.repeat(32)}`)).toBe(false);
      expect(() => new LayerCache(dir).put('../../etc/x', [])).toThrow(/not a sha256 digest/);
      const image = `sha256:${'ef'.repeat(32)}`;
      expect(new LayerCache(dir).config(image)).toBeUndefined();
      new LayerCache(dir).putConfig(image, { history: [{ empty_layer: true }], rootfs: { diff_ids: [] } });
      expect(new LayerCache(dir).config(image)?.history?.[0]?.empty_layer).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
