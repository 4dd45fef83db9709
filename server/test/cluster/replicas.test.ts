// Two real server processes on one real PostgreSQL behind a real HAProxy (test/support/replicas.ts), as
// `npm run start:replicas -- 2` runs them: a learner on replica A and the instructor on replica B see
// each other live; A killed with -9 loses nothing but its connections; the queue and the warm pool hold
// across both under a crowd.
import pg from 'pg';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type {
  DashboardSnapshot,
  InstructorClientToServerEvents,
  InstructorServerToClientEvents,
  SandboxView,
} from '@dockside/protocol';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { startReplicas, type ReplicaSet } from '../support/replicas';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

type InstructorSocket = Socket<InstructorServerToClientEvents, InstructorClientToServerEvents>;
type Ack<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
const PASSWORD = 'correct horse battery';
const runtime = new NativeRuntime(SHARED_DATA_DIR);

/** An instructor's browser session; the cookie is good on every replica (they share the secret). */
class Instructor {
  private constructor(
    private readonly learner: Learner,
    private cookie: string,
  ) {}

  static async signUp(url: string, setupCode: string): Promise<Instructor> {
    const l = await Learner.join(url);
    const me = new Instructor(l, l.cookie);
    const res = await me.call(url, 'POST', '/api/instructors/signup', {
      email: 'kim@example.com',
      name: 'Kim',
      password: PASSWORD,
      setupCode,
    });
    if (res.status !== 200) throw new Error(`sign-up: ${res.status} ${await res.text()}`);
    return me;
  }

  async call(url: string, method: string, p: string, json?: unknown): Promise<Response> {
    const res = await fetch(`${url}${p}`, {
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

  async workshop(url: string, seatLimit: number): Promise<{ id: string; joinCode: string }> {
    const res = await this.call(url, 'POST', '/api/workshops', {
      title: 'Two replicas',
      lessonIds: ['Docker_Intro'],
      seatLimit,
      durationMinutes: 60,
    });
    if (res.status !== 200) throw new Error(`workshop: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; joinCode: string };
  }

  socket(url: string): InstructorSocket {
    return connect(`${url}/instructor`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: this.cookie },
    });
  }
}

const emitAck = <T>(socket: InstructorSocket, event: 'dashboard:watch' | 'mirror:open', payload: unknown) =>
  new Promise<Ack<T>>((resolve) =>
    (socket.emit as (e: string, p: unknown, a: (r: Ack<T>) => void) => void)(event, payload, resolve),
  );

async function joinWorkshop(url: string, code: string, displayName: string): Promise<Learner> {
  const learner = await Learner.join(url);
  const res = await learner.fetch('/api/join', { method: 'POST', json: { code, displayName } });
  if (res.status !== 200) throw new Error(`join ${displayName} at ${url}: ${res.status} ${await res.text()}`);
  return learner;
}

/** The learner's page: its socket reconnects by itself (through whatever address it was given). */
function pageSocket(learner: Learner): LearnerSocket {
  return connect(learner.url, {
    transports: ['websocket'],
    reconnectionDelay: 200,
    reconnectionDelayMax: 1000,
    forceNew: true,
    extraHeaders: { cookie: learner.cookie },
  });
}

const connected = (s: { connected: boolean; once: (e: 'connect', f: () => void) => unknown }) =>
  s.connected ? Promise.resolve() : new Promise<void>((resolve) => s.once('connect', () => resolve()));

async function openTerminal(socket: LearnerSocket, sandboxId: string, terminalId?: string) {
  const t = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
    sandboxId,
    terminalId,
    cols: 100,
    rows: 30,
  });
  if (!t.ok) throw new Error(`terminal:open: ${t.error.message}`);
  return t.value;
}

async function prefixed(set: ReplicaSet): Promise<string[]> {
  return (await runtime.list()).filter((s) => s.id.startsWith(set.idPrefix) && s.running).map((s) => s.id);
}

/** The sandboxes the shared database knows, with their owners. */
async function sandboxRows(set: ReplicaSet): Promise<{ id: string; ownerId: string | null }[]> {
  const c = new pg.Client({ connectionString: set.databaseUrl });
  await c.connect();
  try {
    return (await c.query('SELECT id, "ownerId" FROM "Sandbox"')).rows as { id: string; ownerId: string | null }[];
  } finally {
    await c.end();
  }
}

/** The warm pool's sandboxes that are ready to hand out, as the shared database knows them. */
async function warmReady(set: ReplicaSet): Promise<number> {
  const c = new pg.Client({ connectionString: set.databaseUrl });
  await c.connect();
  try {
    const q = `SELECT count(*) AS n FROM "Sandbox" WHERE "ownerId" IS NULL AND state = 'ready'`;
    return Number((await c.query(q)).rows[0].n);
  } finally {
    await c.end();
  }
}

async function queueLength(set: ReplicaSet): Promise<number> {
  const c = new pg.Client({ connectionString: set.databaseUrl });
  await c.connect();
  try {
    return Number((await c.query('SELECT count(*) AS n FROM "QueueEntry"')).rows[0].n);
  } finally {
    await c.end();
  }
}

/** When a test fails: what the replicas and HAProxy said, what runs and what the database holds. */
function explainFailure(set: () => ReplicaSet) {
  onTestFailed(async () => {
    console.log(set().output().slice(-12_000));
    console.log('running:', await prefixed(set()));
    const c = new pg.Client({ connectionString: set().databaseUrl });
    await c.connect();
    for (const table of ['Sandbox', 'QueueEntry', 'ClusterLease'])
      console.log(table, (await c.query(`SELECT * FROM "${table}"`).catch((e: Error) => ({ rows: e.message }))).rows);
    await c.end();
  });
}

describe.runIf(sandboxesAvailable())('two replicas behind HAProxy on one PostgreSQL', () => {
  let set: ReplicaSet;
  let kim: Instructor;
  let workshop: { id: string; joinCode: string };

  beforeAll(async () => {
    set = await startReplicas({ tag: 'replicas' });
    // The instructor works on replica B throughout.
    kim = await Instructor.signUp(set.replica('b').url, set.setupCode);
    workshop = await kim.workshop(set.replica('b').url, 10);
    const open = await kim.call(set.replica('b').url, 'POST', `/api/workshops/${workshop.id}/open`);
    expect(open.status).toBe(200);
  });

  afterAll(async () => {
    await set?.stop();
  });

  it('spreads requests over both replicas in turn, with no stickiness', async () => {
    explainFailure(() => set);
    const answered: string[] = [];
    for (let i = 0; i < 6; i++) answered.push(await set.servedBy());
    expect(new Set(answered)).toEqual(new Set(['a', 'b']));
    // Round robin: never the same replica twice in a row while both are up.
    expect(answered.every((r, i) => i === 0 || r !== answered[i - 1])).toBe(true);
  });

  it("shows B's instructor the step A's learner finished, live; B's message and mirror reach A's learner", async () => {
    explainFailure(() => set);
    const a = set.replica('a').url;
    const b = set.replica('b').url;
    const watcher = kim.socket(b);
    const first = await emitAck<DashboardSnapshot>(watcher, 'dashboard:watch', { workshopId: workshop.id });
    if (!first.ok) throw new Error(first.error.message);
    const updates: DashboardSnapshot[] = [];
    watcher.on('dashboard:update', (s) => updates.push(s));

    const ana = await joinWorkshop(a, workshop.joinCode, 'Ana on A');
    const socket = ana.socket();
    const sb = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
    if (!sb.ok) throw new Error(sb.error.message);
    const t = await openTerminal(socket, sb.value.id);
    const terminal = new TerminalReader(socket, t.terminalId, t.scrollback);
    await terminal.firstPrompt();
    socket.emit('lesson:focus', { lessonId: 'Docker_Intro', stepId: 'your-engine' });
    // B's dashboard lists her, joined on A.
    await expect
      .poll(() => updates.at(-1)?.learners.map((l) => l.displayName), { timeout: 15_000 })
      .toContain('Ana on A');

    // The mirror on B: her terminal, then what she types on A.
    const mirror = await emitAck<{ terminals: { terminalId: string; scrollback: string }[] }>(watcher, 'mirror:open', {
      workshopId: workshop.id,
      learnerId: ana.id,
    });
    if (!mirror.ok) throw new Error(`mirror:open on B: ${mirror.error.message}`);
    expect(mirror.value.terminals.map((x) => x.terminalId)).toEqual([t.terminalId]);
    let mirrored = '';
    watcher.on('mirror:output', (o) => o.terminalId === t.terminalId && (mirrored += o.data));

    const ran = Date.now();
    terminal.type('docker version\n');
    await terminal.prompt();
    await expect.poll(() => mirrored, { timeout: 10_000 }).toContain('docker version');
    expect(mirrored).toMatch(/Server:/); // the engine's answer too, not only the echo of the keys
    // The step done, on B, without anyone reloading.
    await expect
      .poll(
        () => updates.at(-1)?.learners.find((l) => l.learnerId === ana.id)?.cells.Docker_Intro?.['your-engine']?.state,
        {
          timeout: 15_000,
        },
      )
      .toBe('done');
    console.log(`dashboard on B showed the step done ${Date.now() - ran} ms after the command on A`);

    // A message sent on B arrives on A as a toast.
    const toast = new Promise<{ message: string }>((resolve) => socket.once('toast', resolve));
    const sent = await kim.call(b, 'POST', `/api/workshops/${workshop.id}/message`, { text: 'Break in 5 (from B)' });
    expect(sent.status).toBe(200);
    expect((await toast).message).toBe('Break in 5 (from B)');
    watcher.close();
    socket.close();
  });

  it('kill -9 of A: the page reconnects through the balancer to B, with the same sandbox and terminal', async () => {
    explainFailure(() => set);
    // The learner's page talks to the balancer only; B is out while she arrives, so she lands on A.
    await set.setState('b', 'maint');
    const ben = await joinWorkshop(set.url, workshop.joinCode, 'Ben');
    const socket = pageSocket(ben);
    await connected(socket);
    try {
      expect(await set.states()).toMatchObject({ a: { status: 'UP', sessions: 1 }, b: { status: 'MAINT' } });
      const sb = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
      if (!sb.ok) throw new Error(sb.error.message);
      const t = await openTerminal(socket, sb.value.id);
      const before = new TerminalReader(socket, t.terminalId, t.scrollback);
      await before.firstPrompt();
      before.type('echo before-$((40+1))\r');
      await before.waitFor('before-41');
      await set.setState('b', 'ready');

      const dropped = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
      await set.kill9('a');
      await dropped;
      await connected(socket); // socket.io's own reconnection, as the page's
      expect(await set.states()).toMatchObject({ b: { status: 'UP', sessions: 1 } });
      expect(await set.servedBy()).toBe('b');

      // What the page does on reconnecting: ask for its sandbox, re-open its terminal by id.
      const again = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
      if (!again.ok) throw new Error(`sandbox:ensure on B: ${again.error.message}`);
      expect(again.value.id).toBe(sb.value.id);
      const reopened = await openTerminal(socket, sb.value.id, t.terminalId);
      expect(reopened.terminalId).toBe(t.terminalId);
      expect(reopened.scrollback).toContain('before-41');
      const after = new TerminalReader(socket, t.terminalId, reopened.scrollback);
      after.type('echo after-$((40+2))\r');
      await after.waitFor('after-42');
      // A served the sandboxes' registry, which died with it: B takes it over, so pulls work again.
      after.type(
        'for i in $(seq 20); do docker pull -q hello-world >/dev/null 2>&1 && { echo pulled-$((1+1)); break; }; sleep 2; done\r',
      );
      await after.waitFor('pulled-2', 60_000);
      // Nothing was destroyed because A died.
      expect(await prefixed(set)).toContain(sb.value.id);
    } finally {
      socket.close();
    }
  });
});

describe.runIf(sandboxesAvailable())('the queue and the warm pool across two replicas', () => {
  const MAX = 8;
  const CROWD = 40;
  let set: ReplicaSet;

  beforeAll(async () => {
    // A machine with room for 8 sandboxes, which idle out after a minute: the queue must move.
    set = await startReplicas({
      tag: 'replicas_queue',
      env: { DOCKSIDE_MAX_SANDBOXES: String(MAX), DOCKSIDE_IDLE_MINUTES: '1', DOCKSIDE_SANDBOX_DISK: '1G' },
    });
  });

  afterAll(async () => {
    await set?.stop();
  });

  it('40 concurrent joins split across both: no sandbox handed out twice, one queue, none leaked', async () => {
    explainFailure(() => set);
    const a = set.replica('a').url;
    const b = set.replica('b').url;
    const kim = await Instructor.signUp(b, set.setupCode);
    const room = await kim.workshop(b, CROWD);
    expect((await kim.call(a, 'POST', `/api/workshops/${room.id}/open`)).status).toBe(200);
    // Doors open: the pool warms a sandbox for every seat there is room for. Warm means ready (its engine
    // up), not only running: a crowd meeting sandboxes still starting is queued, as the machine is full.
    await expect.poll(() => warmReady(set), { timeout: 120_000, interval: 500 }).toBe(MAX);
    expect(await prefixed(set)).toHaveLength(MAX);
    const warm = new Set(await prefixed(set));

    // Never more sandboxes than the machine's limit, whichever replica starts them.
    let most = 0;
    const sampler = setInterval(
      () =>
        void prefixed(set).then(
          (ids) => (most = Math.max(most, ids.length)),
          () => {},
        ),
      300,
    );
    try {
      const crowd = await Promise.all(
        Array.from({ length: CROWD }, async (_, i) => {
          const url = i % 2 ? b : a;
          const learner = await joinWorkshop(url, room.joinCode, `P${i}`);
          const socket = learner.socket();
          const ready: SandboxView[] = [];
          const ended: string[] = [];
          socket.on('sandbox:state', (s) => s.phase === 'ready' && ready.push(s));
          socket.on('sandbox:ended', (e) => ended.push(e.sandboxId));
          const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
          return { learner, socket, url, r, ready, ended };
        }),
      );
      const holders = crowd.filter((c) => c.r.ok);
      const queued = crowd.filter((c) => !c.r.ok);
      const given = holders.map((c) => (c.r.ok ? c.r.value.id : ''));
      expect(given).toHaveLength(MAX);
      expect(new Set(given).size).toBe(MAX); // none twice
      expect(given.every((id) => warm.has(id))).toBe(true); // all from the warm pool
      // Both replicas handed some out, and queued some: the crowd really was split.
      expect(new Set(holders.map((c) => c.url))).toEqual(new Set([a, b]));
      // One queue: every waiting learner has their own place, 1 to 32, whichever replica they asked.
      const places = queued.map((c) => {
        if (c.r.ok || c.r.error.code !== 'queued') throw new Error(`not queued: ${JSON.stringify(c.r)}`);
        return Number(/number (\d+) in the queue/.exec(c.r.error.message)?.[1]);
      });
      expect([...places].sort((x, y) => x - y)).toEqual(Array.from({ length: CROWD - MAX }, (_, i) => i + 1));
      expect(new Set(await prefixed(set))).toEqual(warm);

      // A minute later the eight idle out; the next eight in the queue, on either replica, get fresh ones.
      // (Those idle out a minute after too, as nobody types: what counts is that each got one.)
      const next = queued.filter((_, i) => places[i]! <= MAX);
      const served = new Map<(typeof crowd)[number], string>();
      onTestFailed(() =>
        console.log(
          'queue places, learners and the sandbox each was seen with:',
          queued.map((c, i) => [places[i], c.learner.id, c.url === a ? 'a' : 'b', served.get(c) ?? null]),
        ),
      );
      const current = async (c: (typeof crowd)[number]) =>
        ((await (await c.learner.fetch('/api/sandboxes/current')).json()) as { sandbox: SandboxView | null }).sandbox;
      // Each of them was served a sandbox (the database's answer, asked on their own replica)…
      await expect
        .poll(
          async () => {
            for (const c of next) {
              const sb = served.has(c) ? null : await current(c);
              if (sb?.phase === 'ready') served.set(c, sb.id);
            }
            return served.size;
          },
          {
            timeout: 150_000,
            interval: 1000,
            message: 'learners 1 to 8 in the queue served a sandbox once the first eight idled out',
          },
        )
        .toBe(MAX);
      // … and their page was told, wherever their socket is, as were the first eight that theirs ended.
      await expect
        .poll(() => next.filter((c) => c.ready.length > 0).length, {
          timeout: 10_000,
          message: 'sandbox:state events reaching the pages of learners 1 to 8 in the queue',
        })
        .toBe(MAX);
      expect(next.map((c) => c.ready[0]!.id)).toEqual(next.map((c) => served.get(c)));
      expect(holders.filter((c) => c.ended.includes(c.r.ok ? c.r.value.id : '')).length).toBe(MAX);
      const second = [...served.values()];
      expect(new Set(second).size).toBe(MAX);
      expect(second.some((id) => warm.has(id))).toBe(false);
      expect(most).toBeLessThanOrEqual(MAX);

      // None leaked: what runs is what the database knows, one sandbox per owner at most.
      // (The queue keeps moving meanwhile: the two are compared until they agree at one moment.)
      const agree = async () => {
        const [running, rows] = await Promise.all([prefixed(set), sandboxRows(set)]);
        const owners = rows.map((r) => r.ownerId).filter(Boolean);
        return (
          new Set(owners).size === owners.length &&
          running.length === rows.length &&
          rows.every((r) => running.includes(r.id))
        );
      };
      await expect.poll(agree, { timeout: 30_000, interval: 300, message: 'runtime and database agree' }).toBe(true);

      // The workshop ends: every learner's sandbox goes and the queue empties. What may still run is the
      // warm pool refilled for the seats never taken (as one process does), each known and nobody's.
      expect((await kim.call(b, 'POST', `/api/workshops/${room.id}/end`)).status).toBe(200);
      await expect
        .poll(async () => (await sandboxRows(set)).filter((r) => r.ownerId).length, { timeout: 60_000, interval: 500 })
        .toBe(0);
      expect(await queueLength(set)).toBe(0);
      await expect.poll(agree, { timeout: 60_000, interval: 300, message: 'runtime and database agree' }).toBe(true);
      expect((await prefixed(set)).length).toBeLessThanOrEqual(MAX);
      const after = await Promise.all(crowd.map(current));
      expect(after.filter(Boolean)).toEqual([]);
      for (const c of crowd) c.socket.close();
    } finally {
      clearInterval(sampler);
    }
  }, 420_000);
});
