// `npm run bench:registry`: `docker pull nginx` in a fresh sandbox, and building the lesson images from
// scratch and warm. Prints a table.
//   BENCH_RUNS (default 5)  pulls to time
//   BENCH_COLD=0            skip the from-scratch build (about a minute)
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeRuntime } from '../src/engine/nativeRuntime';
import { buildLessonImages } from '../src/images/build';
import { RegistrySupervisor } from '../src/registry/supervisor';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const shared = process.env.DOCKSIDE_DATA_DIR ?? '/var/lib/dockside';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: [string, string, string][] = [];

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

// 1. Pulls.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-registry-'));
mkdirSync(path.join(dataDir, 'images'));
symlinkSync(path.join(shared, 'images', 'base'), path.join(dataDir, 'images', 'base'));
symlinkSync(path.join(shared, 'registry'), path.join(dataDir, 'registry'));
const rt = new NativeRuntime(dataDir);
const registry = new RegistrySupervisor(shared, () => {});
await registry.start();
try {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const id = `bench-pull-${i}`;
    await rt.create(id, 3000 + i, { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 8 * 1024 ** 3 });
    times.push(
      await seconds(async () => {
        const r = await rt.exec(id, ['docker', 'pull', 'nginx']);
        if (r.code !== 0) throw new Error(r.stderr);
      }),
    );
    const size = await rt.exec(id, ['docker', 'image', 'inspect', '--format', '{{.Size}}', 'nginx']);
    bytes = Number(size.stdout.toString().trim());
    await rt.destroy(id);
  }
  const m = median(times);
  rows.push([
    `docker pull nginx in a fresh sandbox (median of ${RUNS})`,
    `${m.toFixed(2)} s`,
    `${(bytes / 1024 ** 2 / m).toFixed(1)} MB/s of image (${(bytes / 1024 ** 2).toFixed(0)} MB unpacked)`,
  ]);
} finally {
  for (const s of await rt.list().catch(() => [])) await rt.destroy(s.id).catch(() => {});
  await registry.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

// 2. Builds: warm (the cache `npm start` made), then from scratch in an empty data dir.
const warm: number[] = [];
for (let i = 0; i < 3; i++) warm.push(await seconds(() => buildLessonImages({ dataDir: shared, log: () => {} })));
rows.push(['build all lesson images, warm cache (median of 3)', `${median(warm).toFixed(2)} s`, 'target ≤ 5 s']);
if (process.env.BENCH_COLD !== '0') {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-build-'));
  try {
    rows.push([
      'build all lesson images from scratch',
      `${(await seconds(() => buildLessonImages({ dataDir: scratch, log: () => {} }))).toFixed(1)} s`,
      'includes debootstrap and apt downloads',
    ]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const width = Math.max(...rows.map((r) => r[0].length));
console.log(`\nDockside registry benchmark (${os.cpus().length} cores)\n`);
for (const [what, value, note] of rows) console.log(`${what.padEnd(width)}  ${value.padStart(9)}  ${note}`);
