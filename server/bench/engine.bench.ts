// `npm run bench:engine`: what a learner feels through the real server. "Start lesson" → first prompt
// (warm pool and cold), keystroke echo round trips (idle, and while other sandboxes build images), and
// terminal throughput with the server's memory. Prints a table.
//   BENCH_RUNS (default 10)  starts to time      BENCH_LOAD (default 20)  sandboxes building meanwhile
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeRuntime } from '../src/engine/nativeRuntime';
import type { SandboxView } from '../src/realtime/events';
import { Learner, request, TerminalReader } from '../test/support/learner';
import { startServer, type RunningServer } from '../test/support/server';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const LOAD = Number(process.env.BENCH_LOAD ?? 20);
const shared = process.env.DOCKSIDE_DATA_DIR ?? '/var/lib/dockside';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const rows: [string, string, string][] = [];

async function startLesson(
  url: string,
): Promise<{ ms: number; terminal: TerminalReader; learner: Learner; sandbox: SandboxView }> {
  const t = now();
  const learner = await Learner.join(url);
  const socket = learner.socket();
  const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
  if (!r.ok) throw new Error(r.error.message);
  const open = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
    sandboxId: r.value.id,
    cols: 100,
    rows: 30,
  });
  if (!open.ok) throw new Error(open.error.message);
  const terminal = new TerminalReader(socket, open.value.terminalId, '');
  await terminal.prompt();
  return { ms: now() - t, terminal, learner, sandbox: r.value };
}

async function echoes(terminal: TerminalReader, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    const before = terminal.text.length;
    const t = now();
    terminal.type(ch);
    while (!terminal.text.slice(before).includes(ch)) await new Promise((r) => setImmediate(r));
    times.push(now() - t);
  }
  terminal.type('\x15'); // Ctrl-U: clear the line
  return times;
}

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-engine-'));
const env = (pool: number) => ({
  DOCKSIDE_DATA_DIR: shared,
  DATABASE_URL: `file:${path.join(dbDir, `db-${pool}.sqlite`)}`,
  DOCKSIDE_POOL_SIZE: String(pool),
});
let server: RunningServer | undefined;
const loadDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-load-'));
const loadRt = new NativeRuntime(loadDir);
try {
  // Warm pool: each start takes a ready sandbox; wait for the pool to refill between learners.
  server = await startServer(env(2));
  await new Promise((r) => setTimeout(r, 3000));
  const warm: number[] = [];
  let last: Awaited<ReturnType<typeof startLesson>> | undefined;
  for (let i = 0; i < RUNS; i++) {
    last = await startLesson(server.url);
    warm.push(last.ms);
    await new Promise((r) => setTimeout(r, 1500));
  }
  rows.push([
    '"Start lesson" → first prompt, warm pool (median)',
    `${median(warm).toFixed(0)} ms`,
    `${RUNS} learners; max ${Math.max(...warm).toFixed(0)} ms`,
  ]);

  await new Promise((r) => setTimeout(r, 8000)); // let the pool finish refilling: measure an idle machine
  const idle = await echoes(last!.terminal, 200);
  rows.push([
    'keystroke echo round trip, idle',
    `${median(idle).toFixed(1)} ms`,
    `p99 ${pct(idle, 0.99).toFixed(1)} ms over 200 keys; target p99 ≤ 20 ms`,
  ]);

  // Throughput of a flood, and the server's memory meanwhile.
  const before = rss(server.serverPid());
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(server!.serverPid()))), 50);
  const start = last!.terminal.received;
  const t = now();
  last!.terminal.type('yes | head -c 100000000; echo flood-$((1+1))\r');
  await last!.terminal.waitFor('flood-2', 300_000);
  clearInterval(sampler);
  const mbs = (last!.terminal.received - start) / 1024 ** 2 / ((now() - t) / 1000);
  rows.push([
    'terminal throughput (yes | head -c 100M)',
    `${mbs.toFixed(1)} MB/s`,
    `server RSS ${(before / 1024 ** 2).toFixed(0)} → peak ${(peak / 1024 ** 2).toFixed(0)} MB`,
  ]);
  last!.terminal.text = '';

  // Echo while other sandboxes build images.
  mkdirSync(path.join(loadDir, 'images'));
  symlinkSync(path.join(shared, 'images', 'base'), path.join(loadDir, 'images', 'base'));
  symlinkSync(path.join(shared, 'registry'), path.join(loadDir, 'registry'));
  const ids = Array.from({ length: LOAD }, (_, i) => `bench-load-${i}`);
  for (let i = 0; i < ids.length; i += 4)
    await Promise.all(
      ids
        .slice(i, i + 4)
        .map((id, j) =>
          loadRt.create(id, 4000 + i + j, { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 1024 ** 3 }),
        ),
    );
  const build =
    'docker pull -q busybox >/dev/null; mkdir -p /tmp/b && cd /tmp/b && printf "FROM busybox\\nRUN dd if=/dev/urandom of=/blob bs=1M count=20\\nRUN sha256sum /blob > /sum\\n" > Dockerfile; ' +
    'while :; do docker build -q --no-cache -t load . >/dev/null; done';
  const builders = ids.map((id) => loadRt.exec(id, ['sh', '-c', build], { timeoutMs: 600_000 }));
  await new Promise((r) => setTimeout(r, 8000));
  const loaded = await echoes(last!.terminal, 200);
  rows.push([
    `keystroke echo while ${LOAD} sandboxes run docker build`,
    `${median(loaded).toFixed(1)} ms`,
    `p99 ${pct(loaded, 0.99).toFixed(1)} ms; 2 cores shared by everything`,
  ]);
  for (const id of ids) await loadRt.destroy(id).catch(() => {});
  await Promise.allSettled(builders);

  // Cold starts: no pool.
  await server.stop();
  server = await startServer({ ...env(0), DOCKSIDE_KEEP_SANDBOXES: '0' });
  const cold: number[] = [];
  for (let i = 0; i < RUNS; i++) cold.push((await startLesson(server.url)).ms);
  rows.push([
    '"Start lesson" → first prompt, cold (median)',
    `${median(cold).toFixed(0)} ms`,
    `${RUNS} learners; max ${Math.max(...cold).toFixed(0)} ms`,
  ]);
} finally {
  for (const s of await loadRt.list().catch(() => [])) await loadRt.destroy(s.id).catch(() => {});
  await server?.stop();
  // A last start without keeping sandboxes cleans up what the runs left.
  const cleanup = await startServer({ ...env(0), DOCKSIDE_KEEP_SANDBOXES: '0' });
  await cleanup.stop();
  rmSync(dbDir, { recursive: true, force: true });
  rmSync(loadDir, { recursive: true, force: true });
}

const width = Math.max(...rows.map((r) => r[0].length));
console.log(`\nDockside engine benchmark (${os.cpus().length} cores)\n`);
for (const [what, value, note] of rows) console.log(`${what.padEnd(width)}  ${value.padStart(10)}  ${note}`);
process.exit(0);
