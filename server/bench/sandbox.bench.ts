// `npm run bench:sandbox`: how fast a sandbox starts, what it costs idle, and how 40 of them behave on
// this machine. Prints a table; nothing here is a pass/fail test.
//   BENCH_RUNS (default 10)  cold creates to time
//   BENCH_MANY (default 40)  sandboxes at once
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeRuntime } from '../src/engine/nativeRuntime';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const MANY = Number(process.env.BENCH_MANY ?? 40);
const shared = process.env.DOCKSIDE_DATA_DIR ?? '/var/lib/dockside';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-'));
mkdirSync(path.join(dataDir, 'images'));
symlinkSync(path.join(shared, 'images', 'base'), path.join(dataDir, 'images', 'base'));
const rt = new NativeRuntime(dataDir);
const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 8 * 1024 ** 3 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const mb = (n: number) => `${(n / 1024 ** 2).toFixed(0)} MB`;

/** Sum of RSS of every process in the sandbox's memory cgroup (v1) or cgroup (v2). */
function sandboxRss(id: string): number {
  const candidates = [`/sys/fs/cgroup/memory/dockside/${id}`, `/sys/fs/cgroup/dockside/${id}`];
  let total = 0;
  for (const dir of candidates) {
    let procs: string[] = [];
    try {
      procs = execFileSync('find', [dir, '-name', 'cgroup.procs']).toString().trim().split('\n').filter(Boolean);
    } catch {
      continue;
    }
    for (const f of procs)
      for (const pid of readFileSync(f, 'utf8').split('\n').filter(Boolean)) {
        try {
          total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
        } catch {
          /* exited */
        }
      }
    if (total) break;
  }
  return total;
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const t = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const rows: [string, string, string][] = [];
try {
  // 1. Cold create until the engine answers, one at a time.
  const creates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    creates.push(await timed(() => rt.create(`bench-cold-${i}`, 1000 + i, limits)));
    await rt.destroy(`bench-cold-${i}`);
  }
  rows.push([
    'cold create → engine answers (median)',
    ms(median(creates)),
    `${RUNS} runs, min ${ms(Math.min(...creates))}, max ${ms(Math.max(...creates))}; target ≤ 500 ms`,
  ]);

  // 2. Many at once: all answer docker info; idle memory; exec round trips.
  const ids = Array.from({ length: MANY }, (_, i) => `bench-many-${i}`);
  const startAll = await timed(async () => {
    for (let i = 0; i < ids.length; i += 4)
      await Promise.all(ids.slice(i, i + 4).map((id, j) => rt.create(id, 2000 + i + j, limits)));
  });
  rows.push([
    `${MANY} sandboxes created (4 at a time)`,
    `${(startAll / 1000).toFixed(1)} s`,
    `${ms(startAll / MANY)} each`,
  ]);
  const infos = await Promise.all(ids.map((id) => rt.exec(id, ['docker', 'info', '--format', '{{.ServerVersion}}'])));
  rows.push([`${MANY} engines answer docker info`, `${infos.filter((r) => r.code === 0).length}/${MANY}`, '']);
  await new Promise((r) => setTimeout(r, 5000)); // let them settle to idle
  const rss = ids.map(sandboxRss);
  rows.push([
    'idle memory per sandbox (sum of RSS in its cgroup, median)',
    mb(median(rss)),
    `target ≤ 150 MB; machine total ${mb(os.totalmem())}`,
  ]);
  const execs: number[] = [];
  for (let round = 0; round < 5; round++) for (const id of ids) execs.push(await timed(() => rt.exec(id, ['true'])));
  rows.push([
    `exec round trip with ${MANY} running (median)`,
    ms(median(execs)),
    `p99 ${ms(pct(execs, 0.99))}; target median < 50 ms`,
  ]);
  for (const id of ids) await rt.destroy(id);
} finally {
  for (const s of await rt.list().catch(() => [])) await rt.destroy(s.id).catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}

const width = Math.max(...rows.map((r) => r[0].length));
console.log(`\nDockside sandbox benchmark (${os.cpus().length} cores, ${mb(os.totalmem())}, kernel ${os.release()})\n`);
for (const [what, value, note] of rows) console.log(`${what.padEnd(width)}  ${value.padStart(10)}  ${note}`);
console.log(
  '\nPlay-with-Docker-style DinD is not measured here: no host Docker Engine runs on this machine and no image\n' +
    'can be pulled (see ../shared/notes/environment.md for a 0.37 s median measured by hand on this kind of machine).',
);
