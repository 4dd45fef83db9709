import { describe, expect, it } from 'vitest';
import {
  analyse,
  filesystemAt,
  layerChanges,
  normalisePath,
  pathHistory,
  type LayerEntry,
  type LayerIndex,
} from './filesystem';

const file = (path: string, size: number): LayerEntry => ({ path, type: 'file', size, mode: 0o644, uid: 0, gid: 0 });
const dir = (path: string): LayerEntry => ({ path, type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0 });
const layer = (diffId: string, ...entries: LayerEntry[]): LayerIndex => ({ diffId, entries });

describe('layer semantics', () => {
  it('normalises tar paths', () => {
    expect(normalisePath('./etc/')).toBe('etc');
    expect(normalisePath('/usr//bin/x')).toBe('usr/bin/x');
  });

  it('counts added and modified files per layer, and the final owner of each path', () => {
    const a = analyse([
      layer('a', dir('etc'), file('etc/hosts', 100), file('etc/passwd', 50)),
      layer('b', dir('etc'), file('etc/hosts', 120), file('app.py', 10)),
    ]);
    expect(a.layers[1]).toMatchObject({ added: { count: 1, bytes: 10 }, modified: { count: 1, bytes: 120 } });
    expect(a.files.get('etc/hosts')).toMatchObject({ layer: 1, size: 120 });
    expect(a.files.get('etc/passwd')?.layer).toBe(0);
    // The overwritten 100 bytes are waste; the kept 120 are not (dive counts both).
    expect(a.wastedBytes).toBe(100);
    expect(a.layers[0]!.wastedBytes).toBe(100);
    expect(a.totalBytes).toBe(280);
    expect(a.efficiency).toBeCloseTo(180 / 280);
  });

  it('deletes a whole subtree for a whiteout, shown with the lower size, and never shows markers', () => {
    const a = analyse([
      layer(
        'a',
        dir('tmp'),
        dir('tmp/cache'),
        file('tmp/cache/big', 1000),
        file('tmp/cache/small', 10),
        file('keep', 1),
      ),
      layer('b', file('tmp/.wh.cache', 0)),
    ]);
    expect([...a.files.keys()].sort()).toEqual(['keep', 'tmp']);
    expect(a.layers[1]!.deleted).toEqual({ count: 3, bytes: 1010 });
    expect(a.wastedBytes).toBe(1010);
    expect([...a.files.keys()].some((p) => p.includes('.wh.'))).toBe(false);
  });

  it("keeps an opaque directory's own entries whatever their order in the tar", () => {
    const lower = layer('a', dir('app'), file('app/old.txt', 5), dir('app/sub'), file('app/sub/x', 7));
    for (const upper of [
      layer('b', dir('app'), file('app/.wh..wh..opq', 0), file('app/new.txt', 3)),
      layer('b', file('app/new.txt', 3), dir('app'), file('app/.wh..wh..opq', 0)), // marker last: dive hides new.txt
    ]) {
      const a = analyse([lower, upper]);
      expect([...a.files.keys()].sort()).toEqual(['app', 'app/new.txt']);
      expect(a.layers[1]!.deleted).toEqual({ count: 3, bytes: 12 });
    }
  });

  it('counts a hardlink once and handles the same layer twice in one image', () => {
    const bin = layer('a', dir('bin'), file('bin/busybox', 1000), {
      ...file('bin/sh', 0),
      type: 'hardlink',
      linkTarget: 'bin/busybox',
    });
    const a = analyse([bin, layer('b', file('x', 1)), bin]);
    expect(a.totalBytes).toBe(2001);
    expect(a.files.get('bin/busybox')?.layer).toBe(2);
    expect(a.layers[0]!.wastedBytes).toBe(1000); // the first copy is hidden by the identical third layer
  });
});

describe('per-layer file lists for the Layers tab', () => {
  const stack = [
    layer('base', dir('etc'), file('etc/os-release', 40), dir('var'), dir('var/cache'), file('var/cache/a', 300)),
    layer('app', dir('etc'), file('etc/os-release', 42), dir('app'), file('app/main.py', 7)),
    layer('clean', file('var/.wh.cache', 0), dir('app'), file('app/.wh.main.py', 0), file('app/main.py', 9)),
    layer('opaque', dir('etc'), file('etc/.wh..wh..opq', 0), file('etc/hostname', 5)),
  ];

  it("lists a layer's own changes: added, modified, and deleted with the lower copy's size", () => {
    expect(layerChanges(stack, 1).map((f) => [f.path, f.change, f.size])).toEqual([
      ['app', 'A', 0],
      ['app/main.py', 'A', 7],
      ['etc/os-release', 'M', 42],
    ]);
    expect(layerChanges(stack, 2).map((f) => [f.path, f.change, f.size, f.layer])).toEqual([
      ['app/main.py', 'M', 9, 2],
      ['var/cache', 'D', 0, 0],
      ['var/cache/a', 'D', 300, 0],
    ]);
    // An opaque directory hides everything below it, but keeps the same layer's own entries.
    expect(layerChanges(stack, 3).map((f) => [f.path, f.change])).toEqual([
      ['etc/hostname', 'A'],
      ['etc/os-release', 'D'],
    ]);
    expect(layerChanges(stack, 3).some((f) => f.path.includes('.wh.'))).toBe(false);
  });

  it("shows the whole filesystem up to a layer, marking that layer's changes", () => {
    const at1 = filesystemAt(stack, 1);
    expect(at1.map((f) => f.path)).toEqual([
      'app',
      'app/main.py',
      'etc',
      'etc/os-release',
      'var',
      'var/cache',
      'var/cache/a',
    ]);
    expect(at1.find((f) => f.path === 'var/cache/a')).toMatchObject({ layer: 0, change: null });
    expect(at1.find((f) => f.path === 'etc/os-release')).toMatchObject({ layer: 1, change: 'M' });
    expect(at1.find((f) => f.path === 'etc')?.change).toBeNull(); // a restated parent is not a change
    expect(filesystemAt(stack, 3).map((f) => f.path)).toEqual(['app', 'app/main.py', 'etc', 'etc/hostname', 'var']);
  });

  it('tells which layers added, changed and deleted a path', () => {
    expect(pathHistory(stack, '/app/main.py')).toEqual([
      { layer: 1, change: 'A' },
      { layer: 2, change: 'M' },
    ]);
    expect(pathHistory(stack, 'var/cache/a')).toEqual([
      { layer: 0, change: 'A' },
      { layer: 2, change: 'D' },
    ]);
    expect(pathHistory(stack, 'etc/os-release')).toEqual([
      { layer: 0, change: 'A' },
      { layer: 1, change: 'M' },
      { layer: 3, change: 'D' },
    ]);
    expect(pathHistory(stack, 'etc')).toEqual([{ layer: 0, change: 'A' }]);
    expect(pathHistory(stack, 'nowhere')).toEqual([]);
  });
});
