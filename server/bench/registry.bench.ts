// `npm run bench:registry`: `docker pull nginx` in fresh sandboxes through the local registry, an apt
// install in a learner's build through the egress proxy (squid's cache empty, then full), and the
// lesson image build (`tsx server/src/images/build.ts`, the command `npm start` runs) warm and from
// scratch. Prints a table; nothing here is a pass/fail test. Uses its own data dir and registry, fed from
// the shared image cache, so a running server is not disturbed.
//   BENCH_RUNS (default 5)  pulls to time (the catalogue's, and through an upstream cold and cached), each in a fresh sandbox
//   BENCH_COLD=0            skip the from-scratch build (about a minute, downloads from the Debian mirror)
//   BENCH_APT_RUNS (default 3)  apt builds to time, cold and cached, each in a fresh sandbox
//   BENCH_QUICK=1           1 pull, 1 apt build each way, 1 warm build, 1 GB disk, no from-scratch build unless BENCH_COLD=1
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { EgressSupervisor } from '../src/egress/supervisor';
import { writeDockerClientConfig } from '../src/egress/dockerConfig';
import { defaultEgressHosts } from '../src/egress/settings';
import { NativeRuntime } from '../src/engine/nativeRuntime';
import { startLessonRegistry } from '../src/images/lessonRegistry';
import { MANIFEST_V2 } from '../src/images/registryClient';
import { REPO_ROOT } from '../src/paths';
import { median, printTable, QUICK, SHARED_DATA_DIR as shared, size, type Row } from './support';
import { upstreamPulls } from './upstreamPulls';

const RUNS = Math.max(1, size('BENCH_RUNS', 5, 1));
const APT_RUNS = Math.max(1, size('BENCH_APT_RUNS', 3, 1));
const WARM = QUICK ? 1 : 3;
const COLD = (process.env.BENCH_COLD ?? (QUICK ? '0' : '1')) !== '0';
const cacheDir = path.join(shared, 'images', 'lessons');
const MiB = 1024 ** 2;
const rows: Row[] = [];

/** The build command as `npm start` runs it, timed from outside (includes tsx start-up). */
function buildCommand(env: Record<string, string>): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['server/src/images/build.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

// 1. Pulls, each in a fresh sandbox.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ds-bench-reg-'));
mkdirSync(path.join(dataDir, 'images'));
symlinkSync(path.join(shared, 'images', 'base'), path.join(dataDir, 'images', 'base'));
const rt = new NativeRuntime(dataDir);
const { registry } = await startLessonRegistry({ dataDir, cacheDir });
try {
  // What a pull transfers: the compressed layers and the config, as the manifest lists them.
  const manifest = await new Promise<{ layers: { size: number }[]; config: { size: number } }>((resolve, reject) => {
    const req = request(
      {
        socketPath: registry.paths.mirrorSocket,
        path: '/v2/library/nginx/manifests/latest',
        headers: { accept: MANIFEST_V2 },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body)));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const wire = manifest.layers.reduce((n, l) => n + l.size, manifest.config.size);
  const times: number[] = [];
  let unpacked = 0;
  for (let i = 0; i < RUNS; i++) {
    const id = `bench-pull-${process.pid}-${i}`;
    // Ranges go up to 16383: 11000 + 600 × 8 stays below.
    await rt.create(id, 11000 + (process.pid % 600) * 8 + (i % 8), {
      memoryBytes: 1024 ** 3,
      pids: 2048,
      cpus: 1,
      diskBytes: (QUICK ? 1 : 8) * 1024 ** 3,
    });
    try {
      const t = process.hrtime.bigint();
      const r = await rt.exec(id, ['docker', 'pull', 'nginx']);
      if (r.code !== 0) throw new Error(`docker pull nginx: ${r.stderr.toString()}`);
      times.push(Number(process.hrtime.bigint() - t) / 1e9);
      const inspect = await rt.exec(id, ['docker', 'image', 'inspect', '--format', '{{.Size}}', 'nginx']);
      if (inspect.code !== 0) throw new Error(`docker image inspect nginx: ${inspect.stderr.toString()}`);
      unpacked = Number(inspect.stdout.toString().trim());
    } finally {
      await rt.destroy(id);
    }
  }
  const m = median(times);
  rows.push([
    `docker pull nginx, fresh sandbox (median of ${RUNS}; min ${Math.min(...times).toFixed(2)}, max ${Math.max(...times).toFixed(2)})`,
    `${m.toFixed(2)} s`,
    `${(wire / MiB / m).toFixed(1)} MB/s compressed (${(wire / MiB).toFixed(1)} MB), ${(unpacked / MiB / m).toFixed(1)} MB/s unpacked (${(unpacked / MiB).toFixed(0)} MB)`,
  ]);
  rows.push(...(await aptBuilds()));
} finally {
  for (const s of await rt.list().catch(() => [])) await rt.destroy(s.id).catch(() => {});
  await registry.stop();
}

// 1b. Pulls through a registry upstream (DOCKSIDE_REGISTRY_UPSTREAM), cold and cached: ./upstreamPulls.ts.
rows.push(
  ...(await upstreamPulls({
    shared,
    runs: RUNS,
    diskBytes: (QUICK ? 1 : 8) * 1024 ** 3,
    range: 11000 + (process.pid % 600) * 8,
  })),
);

/**
 * `RUN apt-get update && apt-get install -y curl` in a learner's Dockerfile, each in a fresh sandbox
 * (no build cache, the debian image pulled beforehand, untimed): with squid's cache emptied before each
 * cold run, then with it full. What came from upstream is squid's own count (its access log).
 */
async function aptBuilds(): Promise<Row[]> {
  const dockerfile = 'FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n';
  const egress = new EgressSupervisor(dataDir, { allow: defaultEgressHosts(), log: () => {} });
  const logFile = path.join(egress.paths.logDir, 'access.log');
  const fromUpstream = (log: string) =>
    log
      .split('\n')
      .filter((l) => /\b(TCP_MISS|TCP_REFRESH_MODIFIED|TCP_TUNNEL)\//.test(l))
      .reduce((n, l) => n + Number(l.split(/\s+/)[4] ?? 0), 0);
  await egress.start();
  const times = { cold: [] as number[], cached: [] as number[] };
  const upstream = { cold: [] as number[], cached: [] as number[] };
  try {
    for (const kind of ['cold', 'cached'] as const)
      for (let i = 0; i < APT_RUNS; i++) {
        if (kind === 'cold') {
          await egress.stop();
          rmSync(egress.paths.cacheDir, { recursive: true, force: true });
          await egress.start();
        }
        const id = `bench-apt-${process.pid}-${kind}-${i}`;
        await rt.create(id, 11000 + (process.pid % 600) * 8 + (i % 8), {
          memoryBytes: 1024 ** 3,
          pids: 2048,
          cpus: 1,
          diskBytes: (QUICK ? 1 : 4) * 1024 ** 3,
        });
        try {
          await writeDockerClientConfig(rt, id);
          const prep = await rt.exec(id, [
            'sh',
            '-c',
            `docker pull -q debian:bookworm && mkdir -p /tmp/app && printf '${dockerfile}' > /tmp/app/Dockerfile`,
          ]);
          if (prep.code !== 0) throw new Error(`docker pull debian: ${prep.stdout}${prep.stderr}`);
          const before = existsSync(logFile) ? readFileSync(logFile, 'utf8').length : 0;
          const t = process.hrtime.bigint();
          const r = await rt.exec(id, ['sh', '-c', 'docker build -q -t withcurl /tmp/app 2>&1'], {
            timeoutMs: 600_000,
          });
          if (r.code !== 0) throw new Error(`docker build (apt install): ${r.stdout}`);
          times[kind].push(Number(process.hrtime.bigint() - t) / 1e9);
          upstream[kind].push(fromUpstream(readFileSync(logFile, 'utf8').slice(before)));
        } finally {
          await rt.destroy(id);
        }
      }
  } finally {
    await egress.stop();
  }
  return (['cold', 'cached'] as const).map((kind) => [
    `docker build, RUN apt-get update && apt-get install curl, squid ${kind === 'cold' ? 'cache empty' : 'cache full'} (median of ${APT_RUNS}; min ${Math.min(...times[kind]).toFixed(1)}, max ${Math.max(...times[kind]).toFixed(1)})`,
    `${median(times[kind]).toFixed(1)} s`,
    `${(median(upstream[kind]) / MiB).toFixed(1)} MB from upstream`,
  ]);
}

// 2. The build command, warm: cache full, registry stopped (as `npm start` finds it) and its storage intact.
const warm: number[] = [];
for (let i = 0; i < WARM; i++) warm.push(buildCommand({ DOCKSIDE_DATA_DIR: dataDir, DOCKSIDE_IMAGE_CACHE: cacheDir }));
rows.push([
  `build.ts, warm cache, images in the registry (median of ${WARM})`,
  `${median(warm).toFixed(2)} s`,
  'target ≤ 5 s',
]);
// Warm cache but the registry storage wiped: everything pushed again.
rmSync(path.join(dataDir, 'registry', 'storage'), { recursive: true, force: true });
rows.push([
  'build.ts, warm cache, registry storage wiped (re-push)',
  `${buildCommand({ DOCKSIDE_DATA_DIR: dataDir, DOCKSIDE_IMAGE_CACHE: cacheDir }).toFixed(2)} s`,
  '',
]);
rmSync(dataDir, { recursive: true, force: true });

// 3. From scratch: empty data dir, empty cache (debootstrap, apt downloads from the mirror, packing, pushing).
if (COLD) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'ds-bench-cold-'));
  try {
    rows.push([
      'build.ts from scratch (empty cache and registry)',
      `${buildCommand({ DOCKSIDE_DATA_DIR: scratch, DOCKSIDE_IMAGE_CACHE: '' }).toFixed(1)} s`,
      'debootstrap + apt from the Debian mirror',
    ]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

printTable(`Dockside registry benchmark (${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)})`, rows);
