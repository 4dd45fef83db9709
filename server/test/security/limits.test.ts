// Attacks on the machine's capacity by a few clients against a fresh server, each done as it was before
// the limits: cookieless floods that wrote a learner row per request, one address holding every sandbox,
// churning sandbox starts and resets; and the seat race, every way a sandbox starts at once, on SQLite
// and on PostgreSQL when the test run has one. Clients are told apart by X-Forwarded-For, which the
// server trusts here as if one reverse proxy were in front.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client';
import type { SandboxView } from '@dockside/protocol';
import { request, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

/** A browser at one client address: its session cookie, CSRF token and sockets. */
class Visitor {
  cookie = '';
  csrf = '';
  learnerId = '';
  private sockets: LearnerSocket[] = [];
  constructor(
    readonly url: string,
    readonly address: string,
  ) {}

  static async open(url: string, address: string): Promise<Visitor> {
    const v = new Visitor(url, address);
    const res = await fetch(`${url}/api/session`, { headers: { 'x-forwarded-for': address } });
    v.cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
    const body = (await res.json()) as { csrfToken: string; learnerId: string };
    [v.csrf, v.learnerId] = [body.csrfToken, body.learnerId];
    return v;
  }

  call(method: string, p: string, json?: unknown): Promise<Response> {
    return fetch(`${this.url}${p}`, {
      method,
      headers: {
        cookie: this.cookie,
        'x-csrf-token': this.csrf,
        'x-forwarded-for': this.address,
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: json !== undefined ? JSON.stringify(json) : undefined,
    });
  }

  async socket(): Promise<LearnerSocket> {
    const s: LearnerSocket = connect(this.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: this.cookie, 'x-forwarded-for': this.address },
    });
    this.sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    return s;
  }

  async ensure() {
    return request<SandboxView>(await this.socket(), 'sandbox:ensure', {});
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }
}

const visitors: Visitor[] = [];
async function visitor(url: string, address: string): Promise<Visitor> {
  const v = await Visitor.open(url, address);
  visitors.push(v);
  return v;
}

describe.runIf(sandboxesAvailable())('a few clients against the capacity of a fresh server', () => {
  const dbUrl = `file:${mkdtempSync(path.join(os.tmpdir(), 'dockside-limits-'))}/db.sqlite`;
  let server: RunningServer;
  let db: Db;
  const learners = () => db.learner.count();

  beforeAll(async () => {
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: dbUrl,
      DOCKSIDE_TRUSTED_PROXIES: '1',
      DOCKSIDE_NEW_LEARNERS_PER_HOUR: '3',
      DOCKSIDE_SANDBOX_STARTS_PER_HOUR: '3',
      DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS: '2',
    });
    db = createDb({ provider: 'sqlite', url: dbUrl });
  });

  afterAll(async () => {
    visitors.forEach((v) => v.close());
    await db?.$disconnect();
    await server?.stop();
  });

  it('a flood of cookieless HEAD / (and pages, and API reads) writes no learner rows', async () => {
    const hit = (method: string, p: string) =>
      fetch(`${server.url}${p}`, { method, headers: { 'x-forwarded-for': '203.0.113.1' } }).then((r) => {
        expect(r.status).toBeLessThan(400);
        return r.arrayBuffer();
      });
    const flood = [
      ...Array.from({ length: 150 }, () => ['HEAD', '/']),
      ...Array.from({ length: 20 }, () => ['GET', '/']),
      ...Array.from({ length: 20 }, () => ['GET', '/lessons/Docker_Intro']),
      ...Array.from({ length: 50 }, () => ['GET', '/api/session']),
      ...Array.from({ length: 20 }, () => ['GET', '/api/progress']),
    ];
    for (let i = 0; i < flood.length; i += 20)
      await Promise.all(flood.slice(i, i + 20).map(([method, p]) => hit(method!, p!)));
    expect(await learners()).toBe(0);

    // A session that connects its socket and reads is not a learner yet either; its first action is.
    const v = await visitor(server.url, '203.0.113.1');
    await v.socket();
    expect((await v.call('GET', '/api/progress/Docker_Intro')).status).toBe(200);
    expect(await learners()).toBe(0);
    expect((await v.call('PATCH', '/api/me', { displayName: 'Ana' })).status).toBe(200);
    expect(await db.learner.findMany({ select: { id: true } })).toEqual([{ id: v.learnerId }]);
  });

  it('new learners from one address past the budget get 429 with Retry-After, and no row', async () => {
    for (let i = 0; i < 3; i++) {
      const v = await visitor(server.url, '203.0.113.2');
      expect((await v.call('POST', '/api/progress/Docker_Intro/your-engine/skip')).status).toBe(200);
    }
    const fourth = await visitor(server.url, '203.0.113.2');
    const res = await fourth.call('PATCH', '/api/me', { displayName: 'Mallory' });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    const body = (await res.json()) as { error: { code: string; message: string }; retryAfter: number };
    expect(body).toMatchObject({ error: { code: 'rate_limited' }, retryAfter });
    expect(body.error.message).toMatch(/^too many new learners from your network; try again in \d+ (s|min)$/);
    // The socket says the same, as an error ack.
    expect(await fourth.ensure()).toMatchObject({ ok: false, error: { code: 'rate_limited', retryAfter } });
    expect(await db.learner.count({ where: { id: fourth.learnerId } })).toBe(0);
    // Another address is not held back.
    const other = await visitor(server.url, '203.0.113.3');
    expect((await other.call('PATCH', '/api/me', { displayName: 'Ben' })).status).toBe(200);
  });

  it('one address cannot hold every sandbox: its third self-paced sandbox is refused with when to retry', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => visitor(server.url, '203.0.113.4')));
    const first = await a!.ensure();
    expect(first.ok).toBe(true);
    expect((await b!.ensure()).ok).toBe(true);
    const third = await c!.ensure();
    expect(third).toMatchObject({ ok: false, error: { code: 'address_limit' } });
    if (third.ok) return;
    expect((third.error as { retryAfter?: number }).retryAfter).toBeGreaterThan(0);
    expect(third.error.message).toMatch(/^2 sandboxes are already running for your network; try again when one ends/);
    const reset = await c!.call('POST', '/api/sandboxes/current/reset');
    expect(reset.status).toBe(429);
    expect(Number(reset.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await reset.json()) as { error: { code: string } }).error.code).toBe('address_limit');

    // One self-paced learner is one sandbox, however many tabs ask at once.
    const tabs = await Promise.all([1, 2, 3, 4, 5].map(() => a!.ensure()));
    expect(new Set(tabs.map((t) => (t.ok ? t.value.id : t.error.code)))).toEqual(new Set([first.ok && first.value.id]));
    expect(await db.sandbox.count({ where: { ownerId: a!.learnerId } })).toBe(1);
  });

  it('resets past the budget get 429 with Retry-After, and the sandbox stays as it was', async () => {
    const v = await visitor(server.url, '203.0.113.5');
    expect((await v.ensure()).ok).toBe(true);
    let last = '';
    for (let i = 0; i < 2; i++) {
      const r = await v.call('POST', '/api/sandboxes/current/reset');
      expect(r.status).toBe(200);
      last = ((await r.json()) as { sandbox: SandboxView }).sandbox.id;
    }
    const refused = await v.call('POST', '/api/sandboxes/current/reset');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    const current = (await (await v.call('GET', '/api/sandboxes/current')).json()) as { sandbox: SandboxView };
    expect(current.sandbox.id).toBe(last);

    // The budget is the address's: another learner there cannot start one either, whatever it writes
    // into X-Forwarded-For ahead of what the proxy appended.
    const spoofer = await visitor(server.url, '198.51.100.77, 203.0.113.5');
    expect(await spoofer.ensure()).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
  });
});

// --- seats: every way a sandbox starts goes through one policy

const PG_URL = process.env.DOCKSIDE_TEST_POSTGRES_URL;
const pgDb = `dockside_seats_${process.pid}`;
async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(sql);
  await c.end();
}
const seatDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-seats-'));
const databases = [
  {
    provider: 'SQLite',
    database: async () => ({ provider: 'sqlite' as const, url: `file:${path.join(seatDir, 'db.sqlite')}` }),
    drop: async () => {},
  },
  ...(PG_URL
    ? [
        {
          provider: 'PostgreSQL',
          database: async () => {
            await pgAdmin(`CREATE DATABASE ${pgDb}`);
            const u = new URL(PG_URL);
            u.pathname = `/${pgDb}`;
            return { provider: 'postgresql' as const, url: u.toString() };
          },
          drop: () => pgAdmin(`DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`),
        },
      ]
    : []),
];

describe.runIf(sandboxesAvailable()).each(databases)('seats on $provider', ({ database, drop }) => {
  const SETUP = randomBytes(12).toString('hex');
  let server: RunningServer;
  let db: Db;
  let kim: Visitor;
  let workshop: { id: string; joinCode: string };
  let ana: Visitor;
  let ben: Visitor;

  beforeAll(async () => {
    const d = await database();
    server = await startServer({ DOCKSIDE_DATA_DIR: SHARED_DATA_DIR, DATABASE_URL: d.url, DOCKSIDE_SETUP_CODE: SETUP });
    db = createDb(d);
    kim = await Visitor.open(server.url, '127.0.0.1');
    const signup = await kim.call('POST', '/api/instructors/signup', {
      email: 'kim@example.com',
      password: 'correct horse battery',
      setupCode: SETUP,
    });
    expect(signup.status).toBe(200);
    kim.cookie = `${kim.cookie}; ${
      signup.headers
        .getSetCookie()
        .find((c) => c.startsWith('dockside_instructor='))!
        .split(';')[0]!
    }`;
    workshop = (await (
      await kim.call('POST', '/api/workshops', { title: 'Seats', lessonIds: ['Docker_Intro'], seatLimit: 2 })
    ).json()) as typeof workshop;
    expect((await kim.call('POST', `/api/workshops/${workshop.id}/open`)).status).toBe(200);
    // A class behind one address.
    [ana, ben] = await Promise.all([visitor(server.url, '192.0.2.10'), visitor(server.url, '192.0.2.10')]);
    for (const [v, name] of [
      [ana, 'Ana'],
      [ben, 'Ben'],
    ] as const)
      expect((await v.call('POST', '/api/join', { code: workshop.joinCode, displayName: name })).status).toBe(200);
    const late = await visitor(server.url, '192.0.2.10');
    expect((await late.call('POST', '/api/join', { code: workshop.joinCode, displayName: 'Cho' })).status).toBe(409);
  });

  afterAll(async () => {
    visitors.forEach((v) => v.close());
    await db?.$disconnect();
    await server?.stop();
    await drop();
  });

  const sandboxesOf = (v: Visitor) =>
    db.sandbox.findMany({ where: { ownerId: v.learnerId }, select: { id: true, workshopId: true } });

  it("an instructor's reset of a learner with no sandbox starts it in the workshop, within its seats", async () => {
    expect(await sandboxesOf(ben)).toEqual([]);
    const r = await kim.call('POST', `/api/workshops/${workshop.id}/learners/${ben.learnerId}/reset`);
    expect(r.status).toBe(200);
    const { sandboxId } = (await r.json()) as { sandboxId: string };
    expect(await sandboxesOf(ben)).toEqual([{ id: sandboxId, workshopId: workshop.id }]);
  });

  it('several resets and starts at once (learner, instructor, reconnects) cannot exceed the seats', async () => {
    const learner = (v: Visitor) => [
      ...[1, 2, 3].map(() => v.ensure()),
      v.call('POST', '/api/sandboxes/current/reset'),
      v.call('POST', '/api/sandboxes/current/reset'),
      kim.call('POST', `/api/workshops/${workshop.id}/learners/${v.learnerId}/reset`),
      kim.call('POST', `/api/workshops/${workshop.id}/learners/${v.learnerId}/reset`),
    ];
    // A self-paced learner behind the same address starts at the same moment.
    const cho = await visitor(server.url, '192.0.2.10');
    const answers = await Promise.all([...learner(ana), ...learner(ben), cho.ensure()]);
    for (const a of answers) if (a instanceof Response) expect([200, 503]).toContain(a.status);
    await new Promise((r) => setTimeout(r, 1000)); // anything the queue still starts
    const held = await db.sandbox.findMany({ where: { ownerId: { in: [ana.learnerId, ben.learnerId] } } });
    expect(held.map((s) => s.workshopId)).toEqual([workshop.id, workshop.id]);
    expect(new Set(held.map((s) => s.ownerId)).size).toBe(2);
    expect(await db.sandbox.count({ where: { workshopId: workshop.id, ownerId: { not: null } } })).toBeLessThanOrEqual(
      2,
    );
    expect(await sandboxesOf(cho)).toEqual([{ id: expect.any(String), workshopId: null }]);
  });

  it('a workshop that is not open gives no sandbox through a reset', async () => {
    expect((await kim.call('POST', `/api/workshops/${workshop.id}/end`)).status).toBe(200);
    const r = await kim.call('POST', `/api/workshops/${workshop.id}/learners/${ana.learnerId}/reset`);
    expect(r.status).toBe(409);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('not_open');
    expect(await sandboxesOf(ana)).toEqual([]);
  });
});
