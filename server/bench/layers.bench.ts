// `npm run bench:layers`: the layer analyzer on a big image. In a real sandbox it builds an image of about
// 1 GB in 80,000 files, then times both of the analyzer's paths from a cold cache: the engine's own layer
// store (overlay2's tar-split headers, through `dockside-sandbox layerdb`; its parts: resolving the chain,
// reading and parsing the headers) and the fallback, `docker save` (the export alone, then the analyzer's
// indexing of it, with the process's peak memory), and checks that both give the same entries; then a
// second image on the same base shows that only its new layers are read.   BENCH_RUNS (default 3)
// BENCH_QUICK=1: one run on an image of 2,000 files (25 MB) in a 1 GB sandbox (what `npm test` runs)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { NativeRuntime } from '../src/engine/nativeRuntime';
import { LayerAnalyzer, LayerCache } from '../src/layers/analyzer';
import { EngineLayerStore } from '../src/layers/layerStore';
import type { SandboxView } from '../src/realtime/events';
import { Learner, request } from '../test/support/learner';
import { startServer } from '../test/support/server';
import { median, now, printTable, QUICK, SHARED_DATA_DIR as shared, size, type Row } from './support';

const RUNS = size('BENCH_RUNS', 3, 1);
const FILES = QUICK ? 2000 : 80_000;
const MB = 1e6;

const BIG = [
  'FROM python:3-slim',
  // 80 directories × 1,000 files × 12.5 kB of random bytes (incompressible): 1 GB, 80,000 files.
  `RUN python3 -c "import os; [os.makedirs(f'/data/{i//1000}', exist_ok=True) or open(f'/data/{i//1000}/{i}', 'wb').write(os.urandom(12500)) for i in range(${FILES})]"`,
].join('\n');
const ON_TOP = ['FROM big', 'RUN mkdir /extra && echo more > /extra/note', 'RUN rm -rf /data/1'].join('\n');

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-layers-'));
const server = await startServer({
  DOCKSIDE_DATA_DIR: shared,
  DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
  DOCKSIDE_POOL_SIZE: '0',
  DOCKSIDE_SANDBOX_MEMORY: QUICK ? '1G' : '2G',
  DOCKSIDE_SANDBOX_DISK: QUICK ? '1G' : '8G', // the 1.1 GB image, its build context and the export's copy
});
const rows: Row[] = [];
try {
  const learner = await Learner.join(server.url);
  const socket = learner.socket();
  const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
  if (!r.ok) throw new Error(r.error.message);
  const id = r.value.id;
  const rt = new NativeRuntime(shared);
  const sh = async (script: string, stdin?: string) => {
    const res = await rt.exec(id, ['sh', '-c', script], stdin === undefined ? {} : { stdin: Buffer.from(stdin) });
    if (res.code !== 0) throw new Error(`${script}: ${res.stderr.toString()}`);
  };
  console.error(`building the ${((FILES * 12500) / MB).toFixed(0)} MB / ${FILES}-file image in the sandbox…`);
  let t = now();
  await sh('mkdir -p /bench/big /bench/top && cat > /bench/big/Dockerfile', BIG);
  await sh('cat > /bench/top/Dockerfile', ON_TOP);
  await sh('docker build -q -t big /bench/big >/dev/null');
  const buildSeconds = (now() - t) / 1000;
  await sh('docker build -q -t top /bench/top >/dev/null');
  const docker = new Docker({ socketPath: rt.dockerSocket(id) });
  const info = await docker.getImage('big').inspect();

  const exportMs: number[] = [];
  const indexMs: number[] = [];
  const storeMs: number[] = [];
  const resolveMs: number[] = [];
  const walkMs: number[] = [];
  const peakGrowth: number[] = [];
  let peakRss = 0;
  let files = 0;
  let cacheDir = '';
  let same = true;
  const store = new EngineLayerStore(rt.bin, shared);
  let storeAnalyzer = new LayerAnalyzer(new LayerCache(mkdtempSync(path.join(os.tmpdir(), 'dockside-layer-cache-'))));
  for (let i = 0; i < RUNS; i++) {
    // The engine's own export: the same stream, read and thrown away.
    t = now();
    const stream = (await docker.getImage('big').get()) as unknown as Readable;
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    exportMs.push(now() - t);

    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-layer-cache-'));
    const analyzer = new LayerAnalyzer(new LayerCache(cacheDir));
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    t = now();
    const { layers } = await analyzer.indexed(docker, 'big');
    indexMs.push(now() - t);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    peakGrowth.push(peak - base);
    peakRss = Math.max(peakRss, peak);
    files = layers.reduce((n, l) => n + l.entries.length, 0);

    // The engine's layer store, cold: a new analyzer with an empty cache of its own.
    storeAnalyzer = new LayerAnalyzer(
      new LayerCache(mkdtempSync(path.join(os.tmpdir(), 'dockside-layer-cache-'))),
      {},
      store,
    );
    t = now();
    const fromStore = await storeAnalyzer.indexed(docker, 'big');
    storeMs.push(now() - t);
    if (storeAnalyzer.lastPath !== 'store') throw new Error(`the store path was not taken (${storeAnalyzer.lastPath})`);
    resolveMs.push(storeAnalyzer.storeTimings.resolveMs);
    walkMs.push(storeAnalyzer.storeTimings.readMs);
    same &&= JSON.stringify(fromStore.layers) === JSON.stringify(layers);
    console.error(
      `run ${i + 1}/${RUNS}: export ${(exportMs.at(-1)! / 1000).toFixed(2)} s (${(bytes / MB).toFixed(0)} MB), index ${(indexMs.at(-1)! / 1000).toFixed(2)} s, store ${(storeMs.at(-1)! / 1000).toFixed(2)} s`,
    );
  }

  // A second image on the same base: with the cache of the last run, only its own layers are read.
  const cache = new LayerCache(cacheDir);
  const top = await docker.getImage('top').inspect();
  const diffIds = top.RootFS?.Layers ?? [];
  const fresh = diffIds.filter((d) => !cache.has(d)).length;
  t = now();
  await new LayerAnalyzer(cache).indexed(docker, 'top');
  const topMs = now() - t;
  storeAnalyzer.storeTimings.resolveMs = storeAnalyzer.storeTimings.readMs = 0;
  t = now();
  await storeAnalyzer.indexed(docker, 'top');
  const topStoreMs = now() - t;
  rmSync(cacheDir, { recursive: true, force: true });
  socket.close();

  const exp = median(exportMs) / 1000;
  const idx = median(indexMs) / 1000;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  rows.push(
    ['image', `${(info.Size / MB).toFixed(0)} MB, ${files} entries`, `built in ${buildSeconds.toFixed(0)} s`],
    ['layer store, cold cache', s(median(storeMs)), `target ≤ 3 s; runs: ${storeMs.map(s).join(', ')}`],
    ['  resolve chain (diff ids)', s(median(resolveMs)), ''],
    ['  read + parse tar-split', s(median(walkMs)), ''],
    ['  the rest (engine API, cache)', s(median(storeMs.map((x, i) => x - resolveMs[i]! - walkMs[i]!))), ''],
    [
      'layer store, second image on the same base',
      s(topStoreMs),
      `target ≤ 1 s; ${fresh} new of its ${diffIds.length} layers read`,
    ],
    ['same entries as the export', same ? 'yes' : 'NO', 'every layer: paths, types, sizes, modes, owners, whiteouts'],
    ['docker save export alone', `${exp.toFixed(2)} s`, 'the fallback path'],
    ['export index, cold cache (export + parse)', `${idx.toFixed(2)} s`, ''],
    [
      'export: beyond the export (median of per-run differences)',
      `${median(indexMs.map((x, i) => x - exportMs[i]!)) / 1000 >= 0 ? '' : '−'}${Math.abs(median(indexMs.map((x, i) => x - exportMs[i]!)) / 1000).toFixed(2)} s`,
      `runs: ${indexMs.map((x, i) => ((x - exportMs[i]!) / 1000).toFixed(2)).join(', ')} s`,
    ],
    [
      'export: peak RSS growth while indexing',
      `${(median(peakGrowth) / MB).toFixed(0)} MB`,
      `process peak ${(peakRss / MB).toFixed(0)} MB; target ≤ 200 MB`,
    ],
    ['export: second image on the same base', s(topMs), `parsed ${fresh} new of its ${diffIds.length} layers`],
    [
      'dive, same image',
      'not run',
      'dive cannot be installed here (no GitHub or Docker Hub; npm "dive" is another tool)',
    ],
  );
  if (!same) process.exitCode = 1;
} finally {
  await server.stop();
  rmSync(dbDir, { recursive: true, force: true });
}

printTable(`bench:layers — median of ${RUNS} cold-cache runs`, rows);
