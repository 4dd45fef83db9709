// `npm run bench:sandbox`: how fast a sandbox starts, what it costs idle, and how 40 of them behave on
// this machine. Prints a table; nothing here is a pass/fail test (but a failed create or exec fails it).
//   BENCH_RUNS (default 10)  cold creates to time
//   BENCH_MANY (default 40)  sandboxes at once
//   BENCH_QUICK=1            2 runs, 2 sandboxes, 1 GB disks, short settling (what `npm test` runs)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeRuntime } from '../src/engine/nativeRuntime';
import { median, pct, printTable, QUICK, SHARED_DATA_DIR as shared, size, sleep, type Row } from './support';

const RUNS = size('BENCH_RUNS', 10, 2);
const MANY = size('BENCH_MANY', 40, 2);
const SETTLE_MS = QUICK ? 1000 : 5000;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-'));
mkdirSync(path.join(dataDir, 'images'));
symlinkSync(path.join(shared, 'images', 'base'), path.join(dataDir, 'images', 'base'));
const rt = new NativeRuntime(dataDir);
// The product's default disk (8 GB) for the timed creates; quick mode makes do with 1 GB.
const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: (QUICK ? 1 : 8) * 1024 ** 3 };
// Many at once get small disks: the runtime refuses disks (sparse as they are) the host could not hold.
const manyLimits = { ...limits, diskBytes: 1024 ** 3 };

const ms = (n: number) => `${n.toFixed(1)} ms`;
const mb = (n: number) => `${(n / 1024 ** 2).toFixed(0)} MB`;

// The previous base's figures, for comparison with the live ones: `npm run bench:sandbox` on this machine
// with the Debian 12 base (dockerd 20.10, classic builder), medians of three runs of 7 creates / 8 idle.
const BEFORE = { label: 'bookworm + Docker 20.10, measured 2026-12-01', coldMs: 374, idleBytes: 112 * 1024 ** 2 };
/** The base image's Debian release, from its os-release. */
function baseRelease(): string {
  const text = readFileSync(path.join(shared, 'images', 'base', 'current', 'rootfs', 'etc', 'os-release'), 'utf8');
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'unknown';
}

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

/** An exec that must succeed: a failed one is a failed benchmark, not a fast figure. */
async function execOk(id: string, cmd: string[]): Promise<void> {
  const r = await rt.exec(id, cmd);
  if (r.code !== 0) throw new Error(`${id}: ${cmd.join(' ')} exited with ${r.code}: ${r.stderr.toString()}`);
}

const rows: Row[] = [];
let coldMedian = 0;
let idleMedian = 0;
try {
  // 1. Cold create until the engine answers, one at a time.
  const creates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    creates.push(await timed(() => rt.create(`bench-cold-${i}`, 1000 + i, limits)));
    await rt.destroy(`bench-cold-${i}`);
  }
  coldMedian = median(creates);
  rows.push([
    'cold create → engine answers (median)',
    ms(median(creates)),
    `${RUNS} runs, min ${ms(Math.min(...creates))}, max ${ms(Math.max(...creates))}; target ≤ 500 ms`,
  ]);
  rows.push([`  reference: ${BEFORE.label}`, ms(BEFORE.coldMs), '']);

  // 2. Many at once: all answer docker info; idle memory; exec round trips.
  const ids = Array.from({ length: MANY }, (_, i) => `bench-many-${i}`);
  const startAll = await timed(async () => {
    for (let i = 0; i < ids.length; i += 4)
      await Promise.all(ids.slice(i, i + 4).map((id, j) => rt.create(id, 2000 + i + j, manyLimits)));
  });
  rows.push([
    `${MANY} sandboxes created (4 at a time)`,
    `${(startAll / 1000).toFixed(1)} s`,
    `${ms(startAll / MANY)} each`,
  ]);
  const infos = await Promise.all(ids.map((id) => rt.exec(id, ['docker', 'info', '--format', '{{.ServerVersion}}'])));
  const answered = infos.filter((r) => r.code === 0).length;
  rows.push([
    `${MANY} engines answer docker info`,
    `${answered}/${MANY}`,
    `base: ${baseRelease()}, Docker ${infos[0]?.stdout.toString().trim()}`,
  ]);
  if (answered < MANY) throw new Error(`only ${answered} of ${MANY} engines answered docker info`);
  await sleep(SETTLE_MS); // let them settle to idle
  const rss = ids.map(sandboxRss);
  if (rss.some((n) => n === 0)) throw new Error('a sandbox has no processes in its cgroup');
  idleMedian = median(rss);
  rows.push([
    'idle memory per sandbox (sum of RSS in its cgroup, median)',
    mb(median(rss)),
    `target ≤ 150 MB; machine total ${mb(os.totalmem())}`,
  ]);
  rows.push([`  reference: ${BEFORE.label}`, mb(BEFORE.idleBytes), '']);
  const execs: number[] = [];
  for (let round = 0; round < 5; round++) for (const id of ids) execs.push(await timed(() => execOk(id, ['true'])));
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

// 3. Side by side: a Play-with-Docker-style DinD container on a host Docker Engine (Debian docker.io,
// started here by hand), from the same root filesystem, answering on the same kind of socket.
// Skipped (with a row saying why) when there is no host engine; once started, its failures are failures.
const skipDind =
  process.env.BENCH_DIND === '0'
    ? 'BENCH_DIND=0'
    : existsSync('/usr/sbin/dockerd')
      ? ''
      : 'no host Docker Engine (apt-get install docker.io to compare)';
rows.push(...(skipDind ? [['DinD anchor', 'skipped', skipDind] as Row] : await dind()));

async function dind(): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-dind-'));
  const sock = path.join(dir, 'docker.sock');
  const host = spawn(
    '/usr/sbin/dockerd',
    [
      '--iptables=false',
      '--bridge=none',
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      path.join(dir, 'pid'),
      '-H',
      `unix://${sock}`,
    ],
    { stdio: 'ignore' },
  );
  const docker = (...args: string[]) =>
    execFileSync('docker', ['-H', `unix://${sock}`, ...args], { maxBuffer: 1 << 30 })
      .toString()
      .trim();
  try {
    for (let i = 0; i < 100 && !ping(sock); i++) await new Promise((r) => setTimeout(r, 100));
    execFileSync('sh', [
      '-c',
      `tar -C "$1" -c . | docker -H "unix://$2" import - dockside-dind >/dev/null`,
      'sh',
      path.join(shared, 'images', 'base', 'current', 'rootfs'),
      sock,
    ]);
    const times: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const inner = path.join(dir, `s${i}`);
      mkdirSync(inner);
      const t = process.hrtime.bigint();
      docker(
        'run',
        '-d',
        '--name',
        `d${i}`,
        '--cap-add',
        'ALL',
        '--cap-drop',
        'SYS_RESOURCE',
        '--security-opt',
        'seccomp=unconfined',
        '--security-opt',
        'apparmor=unconfined',
        '-v',
        '/var/lib/docker',
        '--tmpfs',
        '/run',
        '-v',
        `${inner}:/run/dind`,
        'dockside-dind',
        'dockerd',
        '-H',
        'unix:///run/dind/docker.sock',
      );
      while (!ping(path.join(inner, 'docker.sock'))) await new Promise((r) => setTimeout(r, 5));
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      await sleep(SETTLE_MS);
      rss.push(
        docker('top', `d${i}`, '-eo', 'pid,rss')
          .split('\n')
          .slice(1)
          .reduce((n, line) => n + Number(line.trim().split(/\s+/)[1] ?? 0) * 1024, 0),
      );
      docker('rm', '-f', `d${i}`);
    }
    return [
      [
        'DinD (privileged-style) container → engine answers (median)',
        ms(median(times)),
        `ratio Dockside/DinD ${(coldMedian / median(times)).toFixed(2)}`,
      ],
      [
        'DinD idle memory (median)',
        mb(median(rss)),
        `ratio Dockside/DinD ${(idleMedian / median(rss)).toFixed(2)}; DinD needs near-root capabilities`,
      ],
    ];
  } finally {
    host.kill('SIGTERM');
    await new Promise((r) => host.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

function ping(sock: string): boolean {
  try {
    return (
      execFileSync('curl', ['-sf', '--unix-socket', sock, 'http://x/_ping'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString() === 'OK'
    );
  } catch {
    return false;
  }
}

printTable(
  `Dockside sandbox benchmark (${os.cpus().length} cores, ${mb(os.totalmem())}, kernel ${os.release()})`,
  rows,
);
