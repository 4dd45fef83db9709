// `npm run bench:workshop`: a class arriving. An instructor opens the doors of a 30-seat workshop (the
// seats' sandboxes are warmed), then 30 simulated learners join within a minute, each starting the lesson
// and waiting for their first prompt, then running the first step's command while the instructor's
// dashboard watches. Twice, printed side by side: one server process (the default: SQLite, no balancer),
// then two replicas on PostgreSQL behind HAProxy (`npm run start:replicas -- 2`), where the learners come
// through the balancer and the dashboard is watched on replica b, so about half the learners' events
// cross replicas. Prints join → prompt (p50/p95), dashboard latency (p95), and each process's CPU and RSS.
//   BENCH_LEARNERS (default 30)   BENCH_SPREAD_S (default 60)   BENCH_QUICK=1: 2 learners within 2 s
//   The two-replica mode needs PostgreSQL: DOCKSIDE_TEST_POSTGRES_URL, or (as root) the local server.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import { testPostgresUrl } from '../../scripts/test-services.mjs';
import { NativeRuntime } from '../src/engine/nativeRuntime';
import type { SandboxView } from '../src/realtime/events';
import type { DashboardSnapshot } from '../src/workshops/dashboard';
import { Learner, request, TerminalReader } from '../test/support/learner';
import { startReplicas } from '../test/support/replicas';
import { startServer } from '../test/support/server';
import { now, pct, printTable, rss as rssOf, SHARED_DATA_DIR as shared, size, sleep, type Row } from './support';

const LEARNERS = size('BENCH_LEARNERS', 30, 2);
const SPREAD_MS = size('BENCH_SPREAD_S', 60, 2) * 1000;
const serverEnv = {
  DOCKSIDE_DATA_DIR: shared,
  DOCKSIDE_POOL_SIZE: '0',
  DOCKSIDE_MAX_SANDBOXES: String(LEARNERS + 5),
  DOCKSIDE_SANDBOX_DISK: '1G',
};

/** Where a mode's parts are: learners' address, the instructor's and the dashboard's, the processes. */
type Target = {
  learnerUrl: string;
  instructorUrl: string;
  dashboardUrl: string;
  setupCode: string;
  idPrefix: string;
  /** The server processes, by name, whose CPU and memory are measured. */
  processes: { name: string; pid: number }[];
};

type Figures = { rows: Row[] };

/** Clock ticks (1/100 s here) a process has run, user and system. */
const ticks = (pid: number) =>
  readFileSync(`/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]!
    .split(' ')
    .slice(11, 13)
    .map(Number)
    .reduce((a, b) => a + b, 0);

/** The whole machine (sandboxes' dockerd, bash and the runtime included): busy and all jiffies of /proc/stat. */
const machine = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + (f[4] ?? 0);
  return { busy: f.reduce((a, b) => a + b, 0) - idle, all: f.reduce((a, b) => a + b, 0) };
};

async function measure(t: Target): Promise<Figures> {
  // The instructor: an account, a workshop, doors open.
  const teacher = await Learner.join(t.instructorUrl);
  const call = async (p: string, json?: unknown, cookie = teacher.cookie) => {
    const res = await fetch(`${t.instructorUrl}${p}`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': teacher.csrf, 'content-type': 'application/json' },
      body: JSON.stringify(json ?? {}),
    });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return res;
  };
  const signup = await call('/api/instructors/signup', {
    email: 'bench@example.com',
    password: 'correct horse battery',
    setupCode: t.setupCode,
  });
  const cookie = `${teacher.cookie}; ${signup.headers.getSetCookie()[0]!.split(';')[0]}`;
  const workshop = (await (
    await call('/api/workshops', { title: 'Bench', lessonIds: ['Docker_Intro'], seatLimit: LEARNERS }, cookie)
  ).json()) as { id: string; joinCode: string };
  const t0 = now();
  await call(`/api/workshops/${workshop.id}/open`, {}, cookie);
  const rt = new NativeRuntime(shared);
  const seats = async () => (await rt.list()).filter((s) => s.id.startsWith(t.idPrefix) && s.running).map((s) => s.id);
  while ((await seats()).length < LEARNERS) await sleep(250);
  // A seat is listed as running from the moment its start begins; it is warm once its engine answers.
  await Promise.all(
    (await seats()).map(async (id) => {
      while (
        (await rt.exec(id, ['docker', 'version', '--format', '{{.Server.Version}}']).catch(() => null))?.code !== 0
      )
        await sleep(250);
    }),
  );
  const warmSeconds = (now() - t0) / 1000;

  // The dashboard, watched.
  const watcher = connect(`${t.dashboardUrl}/instructor`, {
    transports: ['websocket'],
    forceNew: true,
    extraHeaders: { cookie },
  });
  await new Promise<void>((resolve, reject) =>
    watcher.emit('dashboard:watch', { workshopId: workshop.id }, (r: { ok: boolean }) =>
      r.ok ? resolve() : reject(new Error('watch')),
    ),
  );
  const seen = new Map<string, number>(); // learner name → when the dashboard first listed them
  const doneSeen = new Map<string, number>(); // … and showed their first step done
  watcher.on('dashboard:update', (s: DashboardSnapshot) => {
    const at = now();
    for (const l of s.learners) {
      if (!seen.has(l.displayName)) seen.set(l.displayName, at);
      if (!doneSeen.has(l.displayName) && l.cells.Docker_Intro?.['your-engine']?.state === 'done')
        doneSeen.set(l.displayName, at);
    }
  });

  // Each server process's CPU and memory while the class arrives.
  const before = t.processes.map((p) => ({ ...p, ticks: ticks(p.pid), rss: rssOf(p.pid), peak: rssOf(p.pid) }));
  const sampler = setInterval(() => {
    for (const p of before) p.peak = Math.max(p.peak, rssOf(p.pid));
  }, 200);
  const machine0 = machine();
  const start = now();

  const toPrompt: number[] = [];
  const toListed: number[] = [];
  const toDone: number[] = [];
  const toPassed: number[] = [];
  await Promise.all(
    Array.from({ length: LEARNERS }, async (_, i) => {
      await sleep(Math.random() * SPREAD_MS);
      const name = `learner-${i}`;
      const t1 = now();
      const learner = await Learner.join(t.learnerUrl);
      const joined = await learner.fetch('/api/join', {
        method: 'POST',
        json: { code: workshop.joinCode, displayName: name },
      });
      if (!joined.ok) throw new Error(`join: ${await joined.text()}`);
      const tJoined = now();
      const socket = learner.socket();
      const sb = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
      if (!sb.ok) throw new Error(sb.error.message);
      const term = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
        sandboxId: sb.value.id,
        cols: 100,
        rows: 30,
      });
      if (!term.ok) throw new Error(term.error.message);
      const reader = new TerminalReader(socket, term.value.terminalId, term.value.scrollback);
      await reader.firstPrompt(60_000);
      toPrompt.push(now() - t1);
      socket.emit('lesson:focus', { lessonId: 'Docker_Intro', stepId: 'your-engine' });
      for (let w = 0; !seen.has(name) && w < 200; w++) await sleep(25);
      if (seen.has(name)) toListed.push(seen.get(name)! - tJoined);
      let passedAt = 0; // when the learner's own page hears the step's checks pass
      socket.on('checks:result', (r) => {
        if (r.stepId === 'your-engine' && r.stepStatus === 'passed' && !passedAt) passedAt = now();
      });
      reader.type('docker version\n');
      await reader.prompt(60_000);
      const tRan = now();
      for (let w = 0; !doneSeen.has(name) && w < 400; w++) await sleep(25);
      if (doneSeen.has(name)) toDone.push(doneSeen.get(name)! - tRan);
      if (passedAt) toPassed.push(passedAt - tRan);
      socket.close();
    }),
  );
  clearInterval(sampler);
  const elapsed = (now() - start) / 1000;
  const machine1 = machine();
  const machineCpu = (machine1.busy - machine0.busy) / (machine1.all - machine0.all);
  watcher.close();

  return {
    rows: [
      ['doors open → all seats warm', `${warmSeconds.toFixed(1)} s`, `${LEARNERS} sandboxes`],
      [
        'join → first prompt, p50',
        `${pct(toPrompt, 0.5).toFixed(0)} ms`,
        `${toPrompt.length}/${LEARNERS} learners got a prompt`,
      ],
      [
        'join → first prompt, p95',
        `${pct(toPrompt, 0.95).toFixed(0)} ms`,
        `max ${Math.max(...toPrompt).toFixed(0)} ms`,
      ],
      [
        'dashboard lists a new learner, p95',
        `${pct(toListed, 0.95).toFixed(0)} ms`,
        `after the join call returns (${toListed.length} seen)`,
      ],
      [
        "learner's page hears the check pass, p95",
        `${pct(toPassed, 0.95).toFixed(0)} ms`,
        `after the command's prompt returns (${toPassed.length} seen)`,
      ],
      [
        'dashboard shows a step done, p95',
        `${pct(toDone, 0.95).toFixed(0)} ms`,
        `after the command's prompt returns (${toDone.length} seen)`,
      ],
      ...before.map((p): Row => [
        `server CPU while they arrive, ${p.name}`,
        `${(((ticks(p.pid) - p.ticks) / 100 / elapsed) * 100).toFixed(0)} %`,
        `of one core, over ${elapsed.toFixed(0)} s (${os.cpus().length} cores here)`,
      ]),
      [
        'machine CPU while they arrive',
        `${(machineCpu * 100).toFixed(0)} %`,
        `of all ${os.cpus().length} cores, sandboxes included`,
      ],
      ...before.map((p): Row => [
        `server RSS, ${p.name}`,
        `${(p.peak / 1e6).toFixed(0)} MB peak`,
        `${(p.rss / 1e6).toFixed(0)} MB before`,
      ]),
    ],
  };
}

/** One server process, as `npm start` runs it: SQLite, no balancer. */
async function oneProcess(): Promise<Figures> {
  const dbUrl = `file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-workshop-')), 'db.sqlite')}`;
  const server = await startServer({ ...serverEnv, DATABASE_URL: dbUrl });
  try {
    return await measure({
      learnerUrl: server.url,
      instructorUrl: server.url,
      dashboardUrl: server.url,
      setupCode: server.setupCode,
      idPrefix: `sb-${createHash('sha256').update(dbUrl).digest('hex').slice(0, 6)}-`,
      processes: [{ name: 'the one process', pid: server.serverPid() }],
    });
  } catch (err) {
    console.error(server.output().slice(-4000));
    throw err;
  } finally {
    await server.stop();
  }
}

/** Two replicas on PostgreSQL behind HAProxy: learners through the balancer, the dashboard on b. */
async function twoReplicas(): Promise<Figures> {
  if (!testPostgresUrl())
    throw new Error(
      'the two-replica mode needs PostgreSQL: set DOCKSIDE_TEST_POSTGRES_URL=postgres://user:pass@host/postgres (a role that may create databases), or run as root with postgresql installed',
    );
  const set = await startReplicas({ tag: 'bench_workshop', env: serverEnv });
  try {
    return await measure({
      learnerUrl: set.url,
      instructorUrl: set.replica('b').url,
      dashboardUrl: set.replica('b').url,
      setupCode: set.setupCode,
      idPrefix: set.idPrefix,
      processes: ['a', 'b'].map((name) => ({ name: `replica ${name}`, pid: set.replica(name).server.serverPid() })),
    });
  } catch (err) {
    console.error(set.output().slice(-4000));
    throw err;
  } finally {
    await set.stop();
  }
}

const one = await oneProcess();
const two = await twoReplicas();

// Side by side: a row both modes measure shows both figures; a per-process row shows its mode's own.
const HEAD: [string, string] = ['1 process', '2 replicas'];
const w1 = Math.max(HEAD[0].length, ...one.rows.map((r) => r[1].length));
const w2 = Math.max(HEAD[1].length, ...two.rows.map((r) => r[1].length));
const pair = (a: string, b: string) => `${a.padStart(w1)}  ${b.padStart(w2)}`;
const rows: Row[] = [['', pair(...HEAD), 'one: SQLite, direct; two: PostgreSQL, through HAProxy']];
for (const [what, value, note] of one.rows) {
  const other = two.rows.find((r) => r[0] === what);
  rows.push([what, pair(value, other?.[1] ?? '-'), other && other[2] !== note ? `${note}; ${other[2]}` : note]);
}
for (const [what, value, note] of two.rows)
  if (!one.rows.some((r) => r[0] === what)) rows.push([what, pair('-', value), note]);

printTable(
  `bench:workshop — ${LEARNERS} learners joining within ${SPREAD_MS / 1000} s, pre-warmed pool: one process │ two replicas`,
  rows,
);
