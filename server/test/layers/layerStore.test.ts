// Both of the layer analyzer's paths on the same images in a real sandbox: the engine's own layer store
// (overlay2's tar-split, read by `dockside-sandbox layerdb`) and the `docker save` export must give the
// same entries (paths, types, sizes, modes, owners, links, whiteouts), on a small
// image of every kind of entry and on a large one; and a learner who tampers with the store gets either
// the export's answer or a clear error, never another file of the sandbox read as a layer.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxView } from '@dockside/protocol';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { LayerAnalyzer, LayerCache } from '../../src/layers/analyzer';
import { chainIds, EngineLayerStore } from '../../src/layers/layerStore';
import { Learner, request, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-layerstore-'));
let server: RunningServer;
let socket: LearnerSocket;
let id: string;
let docker: Docker;
const rt = new NativeRuntime(SHARED_DATA_DIR);
const store = new EngineLayerStore(rt.bin, SHARED_DATA_DIR);
const freshCache = () => new LayerCache(mkdtempSync(path.join(os.tmpdir(), 'dockside-layerstore-cache-')));

async function sh(script: string): Promise<string> {
  const res = await rt.exec(id, ['sh', '-c', script]);
  if (res.code !== 0) throw new Error(`${script}: ${res.stderr.toString()}`);
  return res.stdout.toString();
}

/** The image's layers by both paths, each from a cold cache. */
async function bothPaths(image: string) {
  const fromStore = new LayerAnalyzer(freshCache(), {}, store);
  const viaStore = await fromStore.indexed(docker, image);
  const fromExport = new LayerAnalyzer(freshCache());
  const viaExport = await fromExport.indexed(docker, image);
  return { viaStore, viaExport, storePath: fromStore.lastPath, exportPath: fromExport.lastPath };
}

const KINDS = [
  'FROM busybox',
  // Every kind of entry: a setuid file, another owner, a hard link, a symlink out, a path past 100 bytes
  // (a PAX header), an empty file and a fifo.
  `RUN mkdir -p /k/dir /k/gone /k/opaque && echo a > /k/opaque/old && echo s > /k/suid && chmod 4755 /k/suid && echo o > /k/owned && chown 1234:5678 /k/owned && ln /k/suid /k/hard && ln -s /etc/shadow /k/link && mkdir -p /k/${'d'.repeat(60)} && echo long > /k/${'d'.repeat(60)}/${'f'.repeat(60)} && touch /k/empty && mkfifo /k/fifo && echo x > /k/gone/x`,
  // A deletion (a whiteout) and a directory replaced whole (opaque).
  'RUN rm -rf /k/gone /k/suid /k/opaque && mkdir /k/opaque && echo new > /k/opaque/new',
].join('\n');

const LARGE = [
  'FROM python:3-slim',
  `RUN python3 -c "import os; [os.makedirs(f'/data/{i//500}', exist_ok=True) or open(f'/data/{i//500}/{i}', 'wb').write(os.urandom(i % 3000)) for i in range(10000)]"`,
  'RUN rm -rf /data/3 /usr/share/doc && mkdir /data/3 && echo again > /data/3/again',
].join('\n');

describe.runIf(sandboxesAvailable())('layers from the engine layer store and from docker save', () => {
  beforeAll(async () => {
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
      DOCKSIDE_POOL_SIZE: '0',
      DOCKSIDE_SANDBOX_DISK: '2G',
    });
    const learner = await Learner.join(server.url);
    socket = learner.socket();
    const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
    if (!r.ok) throw new Error(r.error.message);
    id = r.value.id;
    docker = new Docker({ socketPath: rt.dockerSocket(id) });
    await rt.exec(id, ['sh', '-c', 'mkdir -p /b/kinds /b/large && cat > /b/kinds/Dockerfile'], {
      stdin: Buffer.from(KINDS),
    });
    await rt.exec(id, ['sh', '-c', 'cat > /b/large/Dockerfile'], { stdin: Buffer.from(LARGE) });
    await sh('docker build -q -t kinds /b/kinds >/dev/null && docker build -q -t large /b/large >/dev/null');
  }, 600_000);

  afterAll(async () => {
    socket?.close();
    await server?.stop();
  });

  it('gives every kind of entry and its whiteouts the same by both paths', async () => {
    const { viaStore, viaExport, storePath, exportPath } = await bothPaths('kinds');
    expect([storePath, exportPath]).toEqual(['store', 'export']);
    expect(viaStore.layers).toEqual(viaExport.layers);
    const last = viaStore.layers.at(-1)!.entries.map((e) => e.path);
    // dockerd in a user namespace diffs naively: a directory made again lists its old files as whiteouts
    // (no opaque marker), each a `.wh.` file of mode 0, as the export has them.
    expect(last).toEqual(expect.arrayContaining(['k/.wh.gone', 'k/.wh.suid', 'k/opaque/.wh.old', 'k/opaque/new']));
    expect(viaStore.layers.at(-1)!.entries.find((e) => e.path === 'k/.wh.gone')).toMatchObject({
      type: 'file',
      size: 0,
    });
    const kinds = viaStore.layers.at(-2)!.entries;
    // The first of two names in the archive's (lexical) order is the file, the other a link to it.
    expect(kinds.find((e) => e.path === 'k/suid')).toMatchObject({ type: 'hardlink', linkTarget: 'k/hard' });
    expect(kinds.find((e) => e.path === 'k/link')).toMatchObject({ type: 'symlink', linkTarget: '/etc/shadow' });
    expect(kinds.find((e) => e.path === 'k/owned')).toMatchObject({ uid: 1234, gid: 5678 });
    expect(kinds.find((e) => e.path === 'k/hard')!.mode & 0o4000).toBe(0o4000);
    expect(kinds.some((e) => e.path.length > 120)).toBe(true);
  }, 120_000);

  it('gives a large image the same entries, sizes and whiteouts by both paths', async () => {
    const { viaStore, viaExport } = await bothPaths('large');
    expect(viaStore.layers.map((l) => l.diffId)).toEqual(viaExport.layers.map((l) => l.diffId));
    for (const [i, layer] of viaStore.layers.entries()) expect(layer.entries).toEqual(viaExport.layers[i]!.entries);
    expect(viaStore.layers.reduce((n, l) => n + l.entries.length, 0)).toBeGreaterThan(10_000);
  }, 300_000);

  it('reads a second image on the same base for its new layers only', async () => {
    await rt.exec(id, ['sh', '-c', 'mkdir -p /b/top && cat > /b/top/Dockerfile'], {
      stdin: Buffer.from('FROM large\nRUN echo top > /top\n'),
    });
    await sh('docker build -q -t top /b/top >/dev/null');
    const analyzer = new LayerAnalyzer(freshCache(), {}, store);
    await analyzer.indexed(docker, 'large');
    analyzer.storeTimings.readMs = 0;
    const t = performance.now();
    const { layers } = await analyzer.indexed(docker, 'top');
    expect(analyzer.lastPath).toBe('store');
    expect(layers.at(-1)!.entries).toEqual([{ path: 'top', type: 'file', size: 4, mode: 0o644, uid: 0, gid: 0 }]);
    expect(performance.now() - t).toBeLessThan(1000);
  }, 120_000);

  it('answers bad layerdb arguments, a missing sandbox and a missing layer with their exit codes', () => {
    const hex = 'a'.repeat(64);
    const cases: [string[], number, RegExp][] = [
      [['layerdb', id, 'A'.repeat(64), 'diff'], 2, /the chain id must be 64 lowercase hex digits/],
      [['layerdb', id, '../../etc', 'diff'], 2, /the chain id must be 64 lowercase hex digits/],
      [['layerdb', id, hex, 'config'], 2, /unknown layerdb file config/],
      [['layerdb', id, hex], 2, /layerdb ID CHAIN_ID diff\|cache-id\|tar-split/],
      [['layerdb', 'ls-no-such', hex, 'diff'], 3, /no sandbox ls-no-such/],
      [['layerdb', id, hex, 'diff'], 10, /no layer a{64} in the engine's overlay2 layer store/],
    ];
    for (const [args, code, message] of cases) {
      const r = spawnSync(rt.bin, args, { env: { ...process.env, DOCKSIDE_DATA_DIR: SHARED_DATA_DIR } });
      expect({ args, code: r.status }).toEqual({ args, code });
      expect(r.stderr.toString().trim().split('\n')).toHaveLength(1);
      expect(r.stderr.toString()).toMatch(message);
    }
  });

  it('follows no link the learner puts in the store: a tar-split made a link is not read', async () => {
    const info = await docker.getImage('kinds').inspect();
    const chain = chainIds(info.RootFS!.Layers!).at(-1)!.slice('sha256:'.length);
    const dir = `/var/lib/docker/image/overlay2/layerdb/sha256/${chain}`;
    await sh(`mv ${dir}/tar-split.json.gz ${dir}/ts.keep && ln -s /etc/shadow ${dir}/tar-split.json.gz`);
    try {
      // The store refuses the link; the export is tried, and the engine itself cannot make it.
      const analyzer = new LayerAnalyzer(freshCache(), {}, store);
      await expect(analyzer.indexed(docker, 'kinds')).rejects.toThrow(/server error/);
      expect(analyzer.lastPath).toBe('export');
    } finally {
      await sh(`rm ${dir}/tar-split.json.gz && mv ${dir}/ts.keep ${dir}/tar-split.json.gz`);
    }
    // A store that names another layer for a chain is refused in words.
    await sh(`cp ${dir}/diff ${dir}/diff.keep && printf 'sha256:%064d' 0 > ${dir}/diff`);
    try {
      await expect(new LayerAnalyzer(freshCache(), {}, store).indexed(docker, 'kinds')).rejects.toThrow(
        /layer store could not be read: layer [0-9a-f]{12} names another diff id/,
      );
    } finally {
      await sh(`mv ${dir}/diff.keep ${dir}/diff`);
    }
  }, 120_000);
});
