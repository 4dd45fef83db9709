// Workshops through the real server: instructor accounts, authorisation of every instructor call,
// joining by code, the live dashboard and terminal mirror, results as CSV.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DashboardSnapshot,
  InstructorClientToServerEvents,
  InstructorServerToClientEvents,
  SandboxView,
  WorkshopResults,
} from '@dockside/protocol';
import { Learner, request, TerminalReader } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

type InstructorSocket = Socket<InstructorServerToClientEvents, InstructorClientToServerEvents>;

/** A browser with a learner session (for CSRF) that signs in as an instructor. */
class Browser {
  constructor(
    readonly learner: Learner,
    public cookie: string,
  ) {}
  static async open(url: string) {
    const l = await Learner.join(url);
    return new Browser(l, l.cookie);
  }
  async call(method: string, p: string, json?: unknown) {
    const res = await fetch(`${this.learner.url}${p}`, {
      method,
      headers: {
        cookie: this.cookie,
        'x-csrf-token': this.learner.csrf,
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: json !== undefined ? JSON.stringify(json) : undefined,
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('dockside_instructor='));
    if (set) this.cookie = `${this.learner.cookie}; ${set.split(';')[0]}`;
    return res;
  }
  socket(): InstructorSocket {
    return connect(`${this.learner.url}/instructor`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: this.cookie },
    });
  }
}

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-workshops-'));
let server: RunningServer;
let kim: Browser; // the admin, owner of the workshop
let lee: Browser; // another instructor
let workshop: { id: string; joinCode: string };
const PASSWORD = 'correct horse battery';
const XSS = '<img src=x onerror=alert(1)>';

const emitAck = <T>(socket: InstructorSocket, event: 'dashboard:watch' | 'mirror:open', payload: unknown) =>
  new Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }>((resolve) =>
    (socket.emit as (e: string, p: unknown, a: (r: never) => void) => void)(event, payload, resolve),
  );

// The whole story on SQLite, and again on PostgreSQL when the test run has one (npm test starts it).
const PG_URL = process.env.DOCKSIDE_TEST_POSTGRES_URL;
const pgDb = `dockside_workshops_${process.pid}`;
async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(sql);
  await c.end();
}
const databases = [
  { provider: 'SQLite', url: async () => `file:${path.join(dbDir, 'db.sqlite')}`, drop: async () => {} },
  ...(PG_URL
    ? [
        {
          provider: 'PostgreSQL',
          url: async () => {
            await pgAdmin(`CREATE DATABASE ${pgDb}`);
            const u = new URL(PG_URL);
            u.pathname = `/${pgDb}`;
            return u.toString();
          },
          drop: () => pgAdmin(`DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`),
        },
      ]
    : []),
];

describe.runIf(sandboxesAvailable()).each(databases)('workshops on $provider', ({ url, drop }) => {
  beforeAll(async () => {
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: await url(),
      DOCKSIDE_POOL_SIZE: '0',
    });
    kim = await Browser.open(server.url);
    lee = await Browser.open(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    await drop();
  });

  it('makes the first account the admin; later sign-ups need an invitation; weak passwords are refused', async () => {
    const weak = await kim.call('POST', '/api/instructors/signup', { email: 'kim@example.com', password: 'short' });
    expect(weak.status).toBe(400);
    expect((await weak.json()).error.message).toMatch(/10 characters/);
    const first = await kim.call('POST', '/api/instructors/signup', {
      email: 'kim@example.com',
      name: 'Kim',
      password: PASSWORD,
      setupCode: server.setupCode,
    });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ email: 'kim@example.com', isAdmin: true });

    const uninvited = await lee.call('POST', '/api/instructors/signup', {
      email: 'lee@example.com',
      password: PASSWORD,
    });
    expect(uninvited.status).toBe(403);
    const { code } = (await (await kim.call('POST', '/api/instructors/invitations')).json()) as { code: string };
    const invited = await lee.call('POST', '/api/instructors/signup', {
      email: 'lee@example.com',
      password: PASSWORD,
      invitation: code,
    });
    expect(await invited.json()).toMatchObject({ isAdmin: false });
    const reused = await (
      await Browser.open(server.url)
    ).call('POST', '/api/instructors/signup', {
      email: 'park@example.com',
      password: PASSWORD,
      invitation: code,
    });
    expect(reused.status).toBe(403);
  });

  it('signs in and out, and limits guessing', async () => {
    const b = await Browser.open(server.url);
    expect(
      (await b.call('POST', '/api/instructors/signin', { email: 'kim@example.com', password: 'wrong password!' }))
        .status,
    ).toBe(401);
    expect(
      (await b.call('POST', '/api/instructors/signin', { email: 'KIM@example.com', password: PASSWORD })).status,
    ).toBe(200);
    expect((await b.call('GET', '/api/instructors/me')).status).toBe(200);
    const s = b.socket();
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    expect((await b.call('POST', '/api/instructors/signout')).status).toBe(200);
    expect((await b.call('GET', '/api/instructors/me')).status).toBe(401);
    // A connection made before signing out may ask for nothing more.
    expect(await emitAck(s, 'dashboard:watch', { workshopId: 'anything' })).toMatchObject({
      ok: false,
      error: { code: 'signed_out' },
    });
    s.close();

    const guesser = await Browser.open(server.url);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (
          await guesser.call('POST', '/api/instructors/signin', {
            email: 'lee@example.com',
            password: `guess-${i}-xxxxx`,
          })
        ).status,
      );
    expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('creates a workshop with a join code and a QR code', async () => {
    const res = await kim.call('POST', '/api/workshops', {
      title: `Docker 101 ${XSS}`,
      lessonIds: ['Docker_Intro'],
      seatLimit: 2,
      durationMinutes: 60,
    });
    expect(res.status).toBe(200);
    workshop = (await res.json()) as typeof workshop;
    expect(workshop.joinCode).toMatch(/^[2-9A-Z]{8}$/);
    const detail = (await (await kim.call('GET', `/api/workshops/${workshop.id}`)).json()) as {
      qrSvg: string;
      joinUrl: string;
    };
    expect(detail.joinUrl).toContain(`/join/${workshop.joinCode}`);
    expect(detail.qrSvg).toMatch(/^<svg/);
    expect((await kim.call('POST', '/api/workshops', { title: 'x', lessonIds: ['Nope'], seatLimit: 1 })).status).toBe(
      400,
    );
  });

  it('refuses instructor calls from a learner, another instructor and a signed-out browser', async () => {
    const learner = await Browser.open(server.url);
    const calls: [string, string, unknown?][] = [
      ['GET', `/api/workshops/${workshop.id}`],
      ['GET', `/api/workshops/${workshop.id}/dashboard`],
      ['GET', `/api/workshops/${workshop.id}/results.csv`],
      ['GET', `/api/workshops/${workshop.id}/results`],
      ['POST', `/api/workshops/${workshop.id}/open`],
      ['POST', `/api/workshops/${workshop.id}/end`],
      ['POST', `/api/workshops/${workshop.id}/message`, { text: 'hi' }],
      ['POST', `/api/workshops/${workshop.id}/extend`, { minutes: 10 }],
    ];
    for (const [method, p, body] of calls) {
      expect((await learner.call(method, p, body)).status, `learner ${method} ${p}`).toBe(401);
      expect((await lee.call(method, p, body)).status, `other instructor ${method} ${p}`).toBe(403);
    }
    expect((await learner.call('GET', '/api/workshops')).status).toBe(401);
    expect(((await (await lee.call('GET', '/api/workshops')).json()) as { workshops: unknown[] }).workshops).toEqual(
      [],
    );
    // Nor may they watch its dashboard.
    const s = lee.socket();
    const r = await emitAck(s, 'dashboard:watch', { workshopId: workshop.id });
    expect(r.ok).toBe(false);
    s.close();
    const anon = learner.socket();
    const refused = await new Promise<string>((resolve) => anon.on('connect_error', (e) => resolve(e.message)));
    expect(refused).toMatch(/unauthorized/);
    anon.close();
  });

  it('lets learners join once the doors open, shows them live on the dashboard, and mirrors their terminal', async () => {
    const ana = await Learner.join(server.url);
    const early = await ana.fetch('/api/join', {
      method: 'POST',
      json: { code: workshop.joinCode, displayName: 'Ana' },
    });
    expect(early.status).toBe(409);
    expect((await kim.call('POST', `/api/workshops/${workshop.id}/open`)).status).toBe(200);

    const watcher = kim.socket();
    const first = await emitAck<DashboardSnapshot>(watcher, 'dashboard:watch', { workshopId: workshop.id });
    expect(first.ok && first.value.learners).toEqual([]);
    const updates: DashboardSnapshot[] = [];
    watcher.on('dashboard:update', (s) => updates.push(s));

    const code = `${workshop.joinCode.slice(0, 4).toLowerCase()}-${workshop.joinCode.slice(4)}`; // as typed
    const joined = await ana.fetch('/api/join', { method: 'POST', json: { code, displayName: XSS } });
    expect(await joined.json()).toEqual({ workshopId: workshop.id, lessonId: 'Docker_Intro', locale: 'en' });
    expect(
      (await ana.fetch('/api/join', { method: 'POST', json: { code: 'WRONG123', displayName: 'x' } })).status,
    ).toBe(404);

    // The learner starts the lesson and runs the first step's command.
    const socket = ana.socket();
    const sb = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
    if (!sb.ok) throw new Error(sb.error.message);
    const t = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
      sandboxId: sb.value.id,
      cols: 100,
      rows: 30,
    });
    if (!t.ok) throw new Error(t.error.message);
    const terminal = new TerminalReader(socket, t.value.terminalId, t.value.scrollback);
    await terminal.firstPrompt();
    socket.emit('lesson:focus', { lessonId: 'Docker_Intro', stepId: 'your-engine' });

    const mirror = await emitAck<{ terminals: { terminalId: string }[] }>(watcher, 'mirror:open', {
      workshopId: workshop.id,
      learnerId: ana.id,
    });
    expect(mirror.ok && mirror.value.terminals.map((x) => x.terminalId)).toEqual([t.value.terminalId]);
    // Another instructor may not watch her terminal.
    const leeSocket = lee.socket();
    const refusedMirror = await emitAck(leeSocket, 'mirror:open', { workshopId: workshop.id, learnerId: ana.id });
    expect(refusedMirror).toMatchObject({ ok: false, error: { code: 'not_yours' } });
    leeSocket.close();
    let mirrored = '';
    watcher.on('mirror:output', (o) => (mirrored += o.data));
    terminal.type('docker version\n');
    await terminal.prompt();
    await expect.poll(() => mirrored, { timeout: 10_000 }).toContain('docker version');

    // A terminal she opens later joins the mirror by itself, with its output.
    const announced = new Promise<{ learnerId: string; added: { terminalId: string }[] }>((resolve) =>
      watcher.once('mirror:terminals', resolve),
    );
    const t2 = await request<{ terminalId: string }>(socket, 'terminal:open', {
      sandboxId: sb.value.id,
      cols: 80,
      rows: 24,
    });
    if (!t2.ok) throw new Error(t2.error.message);
    expect(await announced).toMatchObject({ learnerId: ana.id, added: [{ terminalId: t2.value.terminalId }] });
    socket.emit('terminal:close', { terminalId: t2.value.terminalId });

    await expect
      .poll(() => updates.at(-1)?.learners[0]?.cells.Docker_Intro?.['your-engine']?.state, { timeout: 20_000 })
      .toBe('done');
    const me = updates.at(-1)!.learners[0]!;
    expect(me.displayName).toBe(XSS); // stored as text; the page escapes it
    expect(me.lastCommand?.commandLine).toBe('docker version');
    expect(me.engine).toMatchObject({ images: 0, containers: 0 });
    expect(me.current?.stepId).not.toBe('your-engine');

    // Extending the workshop gives every learner's sandbox the same extra time.
    const current = async () =>
      ((await (await ana.fetch('/api/sandboxes/current')).json()) as { sandbox: SandboxView }).sandbox;
    const before = await current();
    const w0 = (await (await kim.call('GET', `/api/workshops/${workshop.id}`)).json()) as { endsAt: string };
    expect((await kim.call('POST', `/api/workshops/${workshop.id}/extend`, { minutes: 10 })).status).toBe(200);
    const w1 = (await (await kim.call('GET', `/api/workshops/${workshop.id}`)).json()) as { endsAt: string };
    expect(Date.parse(w1.endsAt) - Date.parse(w0.endsAt)).toBe(10 * 60_000);
    expect(Date.parse((await current()).expiresAt) - Date.parse(before.expiresAt)).toBe(10 * 60_000);

    // A message reaches the learner's page as a toast.
    const toast = new Promise<{ message: string; from?: string }>((resolve) => socket.once('toast', resolve));
    expect((await kim.call('POST', `/api/workshops/${workshop.id}/message`, { text: `Break ${XSS}` })).status).toBe(
      200,
    );
    expect((await toast).message).toBe(`Break ${XSS}`);

    // The instructor can read the learner's files, not write them.
    expect(
      (await kim.call('GET', `/api/workshops/${workshop.id}/learners/${ana.id}/files?path=/workspace`)).status,
    ).toBe(200);
    expect(
      (await lee.call('GET', `/api/workshops/${workshop.id}/learners/${ana.id}/files?path=/workspace`)).status,
    ).toBe(403);

    // Results as CSV, one row per step; a name that looks like a formula is defused.
    const csv = await (await kim.call('GET', `/api/workshops/${workshop.id}/results.csv`)).text();
    expect(csv.split('\r\n')[0]).toBe('learner,lesson,step,status,started_at,completed_at,seconds');
    expect(csv).toMatch(/Docker_Intro,your-engine,passed,/);
    const results = (await (await kim.call('GET', `/api/workshops/${workshop.id}/results`)).json()) as WorkshopResults;
    expect(results.learners).toHaveLength(1);
    expect(results.learners[0]).toMatchObject({ displayName: XSS, done: 1 });
    const step = results.learners[0]!.steps.find((st) => st.stepId === 'your-engine')!;
    expect(step).toMatchObject({ lessonId: 'Docker_Intro', status: 'passed' });
    expect(step.seconds).toBeGreaterThanOrEqual(0);
    expect(Date.parse(step.completedAt!)).toBeGreaterThanOrEqual(Date.parse(step.startedAt!));

    // Ending destroys the sandbox, keeps the progress.
    expect((await kim.call('POST', `/api/workshops/${workshop.id}/end`)).status).toBe(200);
    await expect
      .poll(() => server.output().includes('') && ana.fetch('/api/sandboxes/current').then((r) => r.json()), {
        timeout: 20_000,
      })
      .toEqual({ sandbox: null });
    const progress = (await (await ana.fetch('/api/progress/Docker_Intro')).json()) as {
      steps: Record<string, { status: string }>;
    };
    expect(progress.steps['your-engine']?.status).toBe('passed');
    expect(
      (await ana.fetch('/api/join', { method: 'POST', json: { code: workshop.joinCode, displayName: 'Ana' } })).status,
    ).toBe(409);
    watcher.close();
    socket.close();
  });

  it('gives the last seats to the first who join when many join at once', async () => {
    const small = (await (
      await kim.call('POST', '/api/workshops', {
        title: 'Small room',
        lessonIds: ['Docker_Layers', 'Docker_Intro'],
        seatLimit: 3,
        startsAt: '2030-01-02T09:00:00.000Z',
        durationMinutes: 90,
      })
    ).json()) as { id: string; joinCode: string; endsAt: string };
    expect(small.endsAt).toBe('2030-01-02T10:30:00.000Z'); // a given start fixes the end
    expect((await kim.call('POST', `/api/workshops/${small.id}/open`)).status).toBe(200);
    const crowd = await Promise.all(Array.from({ length: 20 }, () => Learner.join(server.url)));
    const answers = await Promise.all(
      crowd.map((l, i) =>
        l
          .fetch('/api/join', { method: 'POST', json: { code: small.joinCode, displayName: `P${i}` } })
          .then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } })),
      ),
    );
    expect(answers.filter((a) => a.status === 200).map((a) => (a.body as { lessonId?: string }).lessonId)).toEqual(
      Array(3).fill('Docker_Layers'), // the workshop's first lesson, in the instructor's order
    );
    const order = (await (await kim.call('GET', `/api/workshops/${small.id}/results`)).json()) as WorkshopResults;
    expect(order.lessons.map((l) => l.id)).toEqual(['Docker_Layers', 'Docker_Intro']);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.error?.code)).toEqual(Array(17).fill('full'));
    const room = (await (await kim.call('GET', `/api/workshops/${small.id}`)).json()) as { learners: number };
    expect(room.learners).toBe(3);
    expect((await kim.call('POST', `/api/workshops/${small.id}/end`)).status).toBe(200);
  });

  it('lets a whole class behind one address open the link, but stops guessing codes', async () => {
    const visitor = await Learner.join(server.url);
    // More visits than a class of 30 makes (the join page looks the code up, then joins): none refused.
    const visits = await Promise.all(
      Array.from({ length: 40 }, () => visitor.fetch(`/api/join/${workshop.joinCode}`).then((r) => r.status)),
    );
    expect(visits.every((s) => s === 200)).toBe(true);

    // Wrong codes count; after 20 in ten minutes (one was tried above) the address is refused, even the right code.
    const guesses: number[] = [];
    for (let i = 0; i < 20; i++)
      guesses.push((await visitor.fetch(`/api/join/GUESS${String(i).padStart(3, '2')}`)).status);
    expect(guesses.slice(0, 19).every((s) => s === 404)).toBe(true);
    expect(guesses.at(-1)).toBe(429);
    const right = await visitor.fetch('/api/join', {
      method: 'POST',
      json: { code: workshop.joinCode, displayName: 'Ana' },
    });
    expect(right.status).toBe(429);
    expect((await right.json()).error.message).toMatch(/try again in \d+ s/);
  });
});
