// `npm run bench:workshop`: a class arriving. An instructor opens the doors of a 30-seat workshop (the
// seats' sandboxes are warmed), then 30 simulated learners join within a minute, each starting the lesson
// and waiting for their first prompt, then running the first step's command while the instructor's
// dashboard watches. Prints join → prompt (p50/p95), dashboard latency (p95), and the server's CPU and RSS.
//   BENCH_LEARNERS (default 30)   BENCH_SPREAD_S (default 60)   BENCH_QUICK=1: 2 learners within 2 s
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import { NativeRuntime } from '../src/engine/nativeRuntime';
import type { SandboxView } from '../src/realtime/events';
import type { DashboardSnapshot } from '../src/workshops/dashboard';
import { Learner, request, TerminalReader } from '../test/support/learner';
import { startServer } from '../test/support/server';
import { now, pct, printTable, rss as rssOf, SHARED_DATA_DIR as shared, size, sleep, type Row } from './support';

const LEARNERS = size('BENCH_LEARNERS', 30, 2);
const SPREAD_MS = size('BENCH_SPREAD_S', 60, 2) * 1000;

const dbUrl = `file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-workshop-')), 'db.sqlite')}`;
const prefix = `sb-${createHash('sha256').update(dbUrl).digest('hex').slice(0, 6)}-`;
const server = await startServer({
  DOCKSIDE_DATA_DIR: shared,
  DATABASE_URL: dbUrl,
  DOCKSIDE_POOL_SIZE: '0',
  DOCKSIDE_MAX_SANDBOXES: String(LEARNERS + 5),
  DOCKSIDE_SANDBOX_DISK: '1G',
});
const rows: Row[] = [];
try {
  // The instructor: an account, a workshop, doors open.
  const teacher = await Learner.join(server.url);
  const call = async (p: string, json?: unknown, cookie = teacher.cookie) => {
    const res = await fetch(`${server.url}${p}`, {
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
    setupCode: server.setupCode,
  });
  const cookie = `${teacher.cookie}; ${signup.headers.getSetCookie()[0]!.split(';')[0]}`;
  const workshop = (await (
    await call('/api/workshops', { title: 'Bench', lessonIds: ['Docker_Intro'], seatLimit: LEARNERS }, cookie)
  ).json()) as { id: string; joinCode: string };
  const t = now();
  await call(`/api/workshops/${workshop.id}/open`, {}, cookie);
  const rt = new NativeRuntime(shared);
  while ((await rt.list()).filter((s) => s.id.startsWith(prefix) && s.running).length < LEARNERS) await sleep(250);
  const warmSeconds = (now() - t) / 1000;
  await sleep(2000); // the last engines finish starting

  // The dashboard, watched.
  const watcher = connect(`${server.url}/instructor`, {
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

  // Server CPU and memory while the class arrives.
  const pid = server.serverPid();
  const ticks = () =>
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .split(') ')[1]!
      .split(' ')
      .slice(11, 13)
      .map(Number)
      .reduce((a, b) => a + b, 0);
  const rss = () => rssOf(pid);
  const rssBefore = rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rss())), 200);
  // The whole machine (sandboxes' dockerd, bash and the runtime included): busy / all jiffies of /proc/stat.
  const machine = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    return { busy: f.reduce((a, b) => a + b, 0) - idle, all: f.reduce((a, b) => a + b, 0) };
  };
  const machine0 = machine();
  const ticks0 = ticks();
  const start = now();

  const toPrompt: number[] = [];
  const toListed: number[] = [];
  const toDone: number[] = [];
  const toPassed: number[] = [];
  await Promise.all(
    Array.from({ length: LEARNERS }, async (_, i) => {
      await sleep(Math.random() * SPREAD_MS);
      const name = `learner-${i}`;
      const t0 = now();
      const learner = await Learner.join(server.url);
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
      toPrompt.push(now() - t0);
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
  const cpu = (ticks() - ticks0) / 100 / elapsed; // clock ticks are 1/100 s here
  const machine1 = machine();
  const machineCpu = (machine1.busy - machine0.busy) / (machine1.all - machine0.all);
  watcher.close();

  rows.push(
    ['doors open → all seats warm', `${warmSeconds.toFixed(1)} s`, `${LEARNERS} sandboxes`],
    [
      'join → first prompt, p50',
      `${pct(toPrompt, 0.5).toFixed(0)} ms`,
      `${toPrompt.length}/${LEARNERS} learners got a prompt`,
    ],
    ['join → first prompt, p95', `${pct(toPrompt, 0.95).toFixed(0)} ms`, `max ${Math.max(...toPrompt).toFixed(0)} ms`],
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
    [
      'server CPU while they arrive',
      `${(cpu * 100).toFixed(0)} %`,
      `of one core, over ${elapsed.toFixed(0)} s (2 cores here)`,
    ],
    [
      'machine CPU while they arrive',
      `${(machineCpu * 100).toFixed(0)} %`,
      `of all ${os.cpus().length} cores, sandboxes included`,
    ],
    ['server RSS', `${(rssPeak / 1e6).toFixed(0)} MB peak`, `${(rssBefore / 1e6).toFixed(0)} MB before`],
  );
} finally {
  await server.stop();
}

printTable(`bench:workshop — ${LEARNERS} learners joining within ${SPREAD_MS / 1000} s, pre-warmed pool`, rows);
