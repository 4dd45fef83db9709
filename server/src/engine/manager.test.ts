import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import { FakeClock, type Clock, type TimerHandle } from './clock';
import { AdmissionError } from './admission';
import { LocalBus } from '../cluster/bus';
import {
  ACTIVITY_LAG_MS,
  REFILL_AFTER_HAND_OUT_MS,
  SandboxManager,
  type ManagerEvent,
  type ManagerOptions,
  type Placement,
} from './manager';
import type { Runtime, RuntimeSandbox } from './runtime';

/** A runtime that records calls and keeps its sandboxes in a map (the real one is tested in test/). */
class FakeRuntime implements Runtime {
  live = new Map<string, RuntimeSandbox>();
  created: { id: string; range: number }[] = [];
  destroyed: string[] = [];
  failNext = false;
  /** When set, creates wait for it (a slow engine start). */
  gate: Promise<void> | null = null;
  async create(id: string, range: number) {
    if (this.gate) await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('engine did not answer');
    }
    this.created.push({ id, range });
    this.live.set(id, { id, running: true, range, createdAt: Date.now() });
  }
  async stop(id: string) {
    const s = this.live.get(id);
    if (s) s.running = false;
  }
  async destroy(id: string) {
    this.destroyed.push(id);
    this.live.delete(id);
  }
  async inspect(id: string) {
    const s = this.live.get(id)!;
    return {
      ...s,
      pid: 1,
      limits: { memoryBytes: 0, pids: 0, cpus: 0, diskBytes: 0 },
      memoryUsage: 0,
      dockerSocket: '',
    };
  }
  async list() {
    return [...this.live.values()];
  }
  async exec() {
    return { code: 0, stdout: Buffer.alloc(0), stderr: '' };
  }
  async file() {
    return { code: 0, stdout: Buffer.alloc(0), stderr: '' };
  }
  async openSession() {}
  async sessions() {
    return [];
  }
  sessionSocket(id: string, name: string) {
    return `/nonexistent/${id}/${name}.sock`;
  }
  async connect() {
    return new PassThrough();
  }
  dockerSocket(id: string) {
    return `/nonexistent/${id}.sock`;
  }
}

const MIN = 60_000;
let dir: string;
let db: Db;
let clock: FakeClock;
let runtime: FakeRuntime;
let events: { learnerId: string; event: ManagerEvent }[];
const seats = new Map<string, number>();
let managers: SandboxManager[];

function manager(opts: Partial<ManagerOptions> = {}, on: Clock = clock): SandboxManager {
  const m = new SandboxManager(db, runtime, on, {
    poolSize: 0,
    maxSandboxes: 10,
    idleMs: 30 * MIN,
    lifetimeMs: 240 * MIN,
    warnBeforeMs: 5 * MIN,
    limits: { memoryBytes: 1 << 30, pids: 2048, cpus: 1, diskBytes: 8 << 30 },
    keepOnShutdown: false,
    seatLimit: async (id) => seats.get(id) ?? null,
    // Leases and the leader's round on the fake clock's scale: hours pass in a test.
    leaseTiming: { leaseMs: 30 * MIN, renewMs: 10 * MIN },
    tickMs: 10 * MIN,
    ...opts,
  });
  m.subscribe((learnerId, event) => events.push({ learnerId, event }));
  managers.push(m);
  return m;
}

const eventsFor = (learnerId: string, type: ManagerEvent['type']) =>
  events.filter((e) => e.learnerId === learnerId && e.event.type === type).map((e) => e.event);
const settle = () => clock.advance(0);

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-manager-'));
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
  await db.learner.createMany({ data: ['ana', 'ben', 'cho', 'dan'].map((id) => ({ id })) });
  clock = new FakeClock();
  runtime = new FakeRuntime();
  events = [];
  seats.clear();
  managers = [];
  // Time moves on only once the work the last timer started is done (database writes, starts).
  clock.settle = () => Promise.all(managers.map((m) => m.settled()));
});

afterEach(async () => {
  clock.settle = undefined;
  await Promise.all(managers.map((m) => m.settled()));
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('warm pool', () => {
  it('hands out a warm sandbox at once and refills in the background', async () => {
    const m = manager({ poolSize: 2 });
    await m.start();
    await settle();
    expect(runtime.created).toHaveLength(2);
    const warm = runtime.created.map((c) => c.id);

    const result = await m.ensure('ana');
    expect('sandbox' in result && warm.includes(result.sandbox.id)).toBe(true);
    // The other warm one is there for the next learner: the refill waits while Ana's page loads.
    await settle();
    expect(runtime.created).toHaveLength(2);
    await clock.advance(REFILL_AFTER_HAND_OUT_MS);
    await settle();
    expect(runtime.created).toHaveLength(3); // the pool is back to two
    // The last warm one taken: the pool is refilled at once, both places.
    await m.ensure('ben');
    await m.ensure('cho');
    await settle();
    expect(runtime.created).toHaveLength(5);
    const row = await db.sandbox.findUniqueOrThrow({
      where: { id: (result as { sandbox: { id: string } }).sandbox.id },
    });
    expect(row.ownerId).toBe('ana');
    expect(eventsFor('ana', 'progress').at(-1)).toMatchObject({ phase: 'ready', percent: 100 });
  });

  it('gives each learner one sandbox, with id ranges that never overlap and never 0', async () => {
    const m = manager();
    const a1 = await m.ensure('ana');
    const a2 = await m.ensure('ana');
    const b = await m.ensure('ben');
    expect(a1).toEqual(a2);
    expect(runtime.created.map((c) => c.range)).toEqual([1, 2]);
    expect('sandbox' in b && b.sandbox.id).not.toBe('sandbox' in a1 && a1.sandbox.id);
  });

  it('streams progress for a cold start', async () => {
    const m = manager();
    await m.ensure('ana');
    expect(eventsFor('ana', 'progress').map((e) => (e as { phase: string }).phase)).toEqual([
      'allocating',
      'starting-engine',
      'ready',
    ]);
    expect(eventsFor('ana', 'state')).toHaveLength(1);
  });

  it('reports a failed start to the learner and frees the slot', async () => {
    const m = manager({ maxSandboxes: 1 });
    runtime.failNext = true;
    await expect(m.ensure('ana')).rejects.toThrow('engine did not answer');
    expect(eventsFor('ana', 'error')[0]).toMatchObject({ code: 'sandbox_failed' });
    expect(await db.sandbox.count()).toBe(0);
    expect('sandbox' in (await m.ensure('ana'))).toBe(true);
  });
});

describe('shutdown', () => {
  it('leaves no sandbox behind that was still starting when the server stopped', async () => {
    let open = () => {};
    runtime.gate = new Promise((r) => (open = r));
    const m = manager({ poolSize: 1 });
    clock.settle = undefined; // the start waits for the gate
    await m.start();
    for (let i = 0; i < 50 && m.sandboxes().length === 0; i++) await settle();
    const stopping = m.shutdown();
    open();
    await stopping;
    expect(runtime.created).toHaveLength(1);
    expect([...runtime.live.keys()]).toEqual([]);
  });
});

describe('lifecycle', () => {
  it('warns before the idle timeout, is kept alive by activity, then ends when idle', async () => {
    const m = manager();
    await m.start();
    const r = await m.ensure('ana');
    const id = (r as { sandbox: { id: string } }).sandbox.id;
    await clock.advance(25 * MIN);
    expect(eventsFor('ana', 'warning')).toEqual([
      { type: 'warning', reason: 'idle', at: new Date(clock.now() + 5 * MIN).toISOString() },
    ]);
    m.touch(id);
    await clock.advance(29 * MIN);
    expect(runtime.destroyed).toEqual([]);
    // Ended once the activity another replica may not have written yet would have arrived.
    await clock.advance(1 * MIN);
    expect(runtime.destroyed).toEqual([]);
    await clock.advance(ACTIVITY_LAG_MS);
    expect(runtime.destroyed).toEqual([id]);
    expect(eventsFor('ana', 'ended')).toEqual([{ type: 'ended', sandboxId: id, reason: 'idle' }]);
    expect(await db.sandbox.count()).toBe(0);
    expect(await db.learner.count({ where: { id: 'ana' } })).toBe(1); // the learner and their progress stay
  });

  it('ends at the maximum lifetime even when busy, with a warning five minutes before', async () => {
    const m = manager({ idleMs: 60 * MIN, lifetimeMs: 120 * MIN });
    await m.start();
    const id = ((await m.ensure('ana')) as { sandbox: { id: string } }).sandbox.id;
    for (let t = 0; t < 110; t += 10) {
      await clock.advance(10 * MIN);
      m.touch(id);
    }
    await clock.advance(5 * MIN); // 115 min
    expect(eventsFor('ana', 'warning').some((e) => (e as { reason: string }).reason === 'lifetime')).toBe(true);
    expect(runtime.destroyed).toEqual([]);
    await clock.advance(5 * MIN);
    expect(runtime.destroyed).toEqual([id]);
    expect(eventsFor('ana', 'ended')).toEqual([{ type: 'ended', sandboxId: id, reason: 'lifetime' }]);
  });

  it('resets to a fresh sandbox', async () => {
    const m = manager();
    const first = ((await m.ensure('ana')) as { sandbox: { id: string } }).sandbox.id;
    const second = ((await m.reset('ana')) as { sandbox: { id: string } }).sandbox.id;
    expect(second).not.toBe(first);
    expect(runtime.destroyed).toEqual([first]);
    expect(m.ownerOf(second)).toBe('ana');
    expect(m.ownerOf(first)).toBeUndefined();
  });

  it('destroys everything on shutdown, or nothing when sandboxes are kept', async () => {
    const kept = manager({ keepOnShutdown: true, poolSize: 1 });
    await kept.start();
    await kept.ensure('ana');
    await kept.shutdown();
    expect(runtime.destroyed).toEqual([]);

    const m = manager();
    await m.start(); // adopts the kept ones
    await m.shutdown();
    expect(runtime.live.size).toBe(0);
    expect(await db.sandbox.count()).toBe(0);
  });
});

describe('capacity', () => {
  it('queues learners when the machine is full, with position and estimate, and serves them in order', async () => {
    const m = manager({ maxSandboxes: 2 });
    await m.ensure('ana');
    await m.ensure('ben');
    const cho = await m.ensure('cho');
    const dan = await m.ensure('dan');
    expect(cho).toEqual({ queued: { position: 1, estimateSeconds: expect.any(Number) } });
    expect(dan).toMatchObject({ queued: { position: 2 } });
    // Ana's sandbox ends first (idle in 30 min), so that is roughly when Cho gets a turn.
    expect((cho as { queued: { estimateSeconds: number } }).queued.estimateSeconds).toBeGreaterThan(29 * 60);
    expect(await m.ensure('cho')).toMatchObject({ queued: { position: 1 } }); // asking again keeps the place

    await m.release('ana');
    await settle();
    expect(m.viewFor('cho')).not.toBeNull();
    expect(eventsFor('cho', 'state')).toHaveLength(1);
    expect(eventsFor('dan', 'queue').at(-1)).toMatchObject({ position: 1 });
    expect(m.viewFor('dan')).toBeNull();
  });

  it('never lets two learners take the last seat at the same moment', async () => {
    const m = manager({ maxSandboxes: 1 });
    const [a, b] = await Promise.all([m.ensure('ana'), m.ensure('ben')]);
    expect([a, b].filter((r) => 'sandbox' in r)).toHaveLength(1);
    expect([a, b].filter((r) => 'queued' in r)).toHaveLength(1);
    expect(runtime.created).toHaveLength(1);
  });

  it('applies a workshop seat limit on its own', async () => {
    seats.set('ws1', 1);
    const m = manager({ maxSandboxes: 10 });
    await db.instructor.create({ data: { id: 'i1', email: 'i@x', passwordHash: 'x' } });
    await db.workshop.create({
      data: { id: 'ws1', title: 'W', joinCode: 'ABC', lessonIds: '[]', seatLimit: 1, ownerId: 'i1' },
    });
    expect('sandbox' in (await m.ensure('ana', { workshopId: 'ws1', address: null }))).toBe(true);
    expect(await m.ensure('ben', { workshopId: 'ws1', address: null })).toMatchObject({ queued: { position: 1 } });
    expect('sandbox' in (await m.ensure('cho'))).toBe(true); // self-paced learners are not held back
  });
});

describe('one seat policy', () => {
  const ws = async (id: string, seatLimit: number) => {
    seats.set(id, seatLimit);
    await db.instructor.upsert({
      where: { id: 'i1' },
      create: { id: 'i1', email: 'i@x', passwordHash: 'x' },
      update: {},
    });
    await db.workshop.create({ data: { id, title: 'W', joinCode: id, lessonIds: '[]', seatLimit, ownerId: 'i1' } });
  };
  const fromAddress = (address: string): Placement => ({ workshopId: null, address });

  it('one learner asking many times at once while the room is full waits once, and gets one sandbox', async () => {
    await ws('ws1', 1);
    const m = manager();
    await m.ensure('ana', { workshopId: 'ws1', address: null });
    const asks = await Promise.all(
      Array.from({ length: 5 }, () => m.ensure('ben', { workshopId: 'ws1', address: null })),
    );
    expect(asks.every((r) => 'queued' in r && r.queued.position === 1)).toBe(true);
    await m.ensure('cho', { workshopId: 'ws1', address: null });
    await m.release('ana');
    await settle();
    // Ben got the seat once; Cho still waits for the next one.
    expect(m.sandboxes().filter((s) => s.ownerId === 'ben')).toHaveLength(1);
    expect(m.sandboxes().filter((s) => s.workshopId === 'ws1')).toHaveLength(1);
    expect(eventsFor('cho', 'queue').at(-1)).toMatchObject({ position: 1 });
  });

  it('several resets and starts at once never take more than the seats', async () => {
    await ws('ws1', 2);
    const m = manager({ maxSandboxes: 10 });
    const inWs = { workshopId: 'ws1', address: null };
    await Promise.all([
      ...['ana', 'ben', 'cho'].flatMap((who) => [m.ensure(who, inWs), m.reset(who, inWs), m.reset(who, inWs)]),
      m.ensure('dan', inWs),
    ]);
    await settle();
    const held = m.sandboxes().filter((s) => s.workshopId === 'ws1');
    expect(held.length).toBeLessThanOrEqual(2);
    expect(new Set(held.map((s) => s.ownerId)).size).toBe(held.length);
    for (const who of ['ana', 'ben', 'cho', 'dan'])
      expect(m.sandboxes().filter((s) => s.ownerId === who).length).toBeLessThanOrEqual(1);
  });

  it('a few clients cannot hold every sandbox: an address gets its share, then address_limit with when to retry', async () => {
    const m = manager({ maxSandboxes: 10, sandboxesPerAddress: 2 });
    await m.ensure('ana', fromAddress('203.0.113.7'));
    await m.ensure('ben', fromAddress('203.0.113.7'));
    const refused = await m.ensure('cho', fromAddress('203.0.113.7')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AdmissionError);
    expect(refused).toMatchObject({ code: 'address_limit', retryAfter: 30 * 60 });
    expect((refused as Error).message).toMatch(
      /^2 sandboxes are already running for your network; try again when one ends/,
    );
    // Another address, and learners in a workshop behind the same one, are not held back.
    expect('sandbox' in (await m.ensure('cho', fromAddress('198.51.100.1')))).toBe(true);
    await ws('ws1', 5);
    expect('sandbox' in (await m.ensure('dan', { workshopId: 'ws1', address: '203.0.113.7' }))).toBe(true);
    // Its learners' own sandboxes stay theirs; a reset does not need another share.
    expect('sandbox' in (await m.ensure('ana', fromAddress('203.0.113.7')))).toBe(true);
    expect('sandbox' in (await m.reset('ana', fromAddress('203.0.113.7')))).toBe(true);
  });

  it('counts an address waiting in the queue, so it cannot fill the queue either', async () => {
    const m = manager({ maxSandboxes: 1, sandboxesPerAddress: 2 });
    await m.ensure('ana', fromAddress('198.51.100.1'));
    expect(await m.ensure('ben', fromAddress('203.0.113.7'))).toMatchObject({ queued: { position: 1 } });
    expect(await m.ensure('cho', fromAddress('203.0.113.7'))).toMatchObject({ queued: { position: 2 } });
    await expect(m.ensure('dan', fromAddress('203.0.113.7'))).rejects.toMatchObject({ code: 'address_limit' });
  });

  it('charges a start only when one happens, and a refused reset leaves the sandbox as it was', async () => {
    const m = manager();
    let budget = 2;
    const charge = () => {
      if (budget-- <= 0) throw new AdmissionError('rate_limited', 'spent', 60);
    };
    const first = await m.ensure('ana', { workshopId: null, address: 'a', charge });
    for (let i = 0; i < 5; i++) await m.ensure('ana', { workshopId: null, address: 'a', charge }); // reconnects
    await m.reset('ana', { workshopId: null, address: 'a', charge });
    const kept = m.viewFor('ana')!.id;
    expect(kept).not.toBe('sandbox' in first && first.sandbox.id);
    await expect(m.reset('ana', { workshopId: null, address: 'a', charge })).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfter: 60,
    });
    expect(m.viewFor('ana')?.id).toBe(kept);
    expect(runtime.destroyed).toHaveLength(1);
  });

  it('a running sandbox follows its learner into the workshop they joined, and counts against its seats', async () => {
    await ws('ws1', 1);
    const m = manager();
    const own = await m.ensure('ana', fromAddress('a'));
    await m.ensure('ana', { workshopId: 'ws1', address: 'a' });
    expect(m.sandboxes().find((s) => s.ownerId === 'ana')?.workshopId).toBe('ws1');
    await settle();
    const row = await db.sandbox.findUniqueOrThrow({ where: { id: 'sandbox' in own ? own.sandbox.id : '' } });
    expect(row.workshopId).toBe('ws1');
    expect(await m.ensure('ben', { workshopId: 'ws1', address: 'b' })).toMatchObject({ queued: { position: 1 } });
  });
});

describe('workshops', () => {
  it('prewarms seats when doors open, then shrinks back to the usual pool', async () => {
    const m = manager({ poolSize: 1 });
    await m.start();
    await settle();
    expect(runtime.created).toHaveLength(1);
    m.prewarm(4);
    await settle();
    expect(runtime.created).toHaveLength(4);
    for (const who of ['ana', 'ben', 'cho', 'dan']) await m.ensure(who);
    await settle();
    // Four seats taken from the warm pool; only the usual one is warmed again.
    expect(runtime.created).toHaveLength(5);
    expect(m.sandboxes().filter((s) => s.ownerId === null)).toHaveLength(1);
  });

  it('extends a sandbox lifetime', async () => {
    const m = manager({ lifetimeMs: 60 * MIN, idleMs: 600 * MIN });
    await m.start();
    const id = ((await m.ensure('ana')) as { sandbox: { id: string; expiresAt: string } }).sandbox;
    m.extend('ana', 30 * MIN);
    expect(Date.parse(m.viewFor('ana')!.expiresAt) - Date.parse(id.expiresAt)).toBe(30 * MIN);
    await clock.advance(70 * MIN);
    expect(m.viewFor('ana')).not.toBeNull();
    await clock.advance(25 * MIN);
    expect(m.viewFor('ana')).toBeNull();
  });
});

describe('restart', () => {
  it("leaves another server's sandboxes and id ranges alone when both share the data dir", async () => {
    runtime.live.set('sb-other1-0123456789ab', { id: 'sb-other1-0123456789ab', running: true, range: 1, createdAt: 0 });
    runtime.live.set('sb-mine00-0123456789ab', {
      id: 'sb-mine00-0123456789ab',
      running: true,
      range: 97,
      createdAt: 0,
    });
    const m = manager({ idPrefix: 'sb-mine00-' });
    const { orphans } = await m.start();
    expect(orphans).toEqual(['sb-mine00-0123456789ab']);
    expect(runtime.live.has('sb-other1-0123456789ab')).toBe(true);
    const made = ((await m.ensure('ana')) as { sandbox: { id: string } }).sandbox.id;
    expect(made.startsWith('sb-mine00-')).toBe(true);
    expect(runtime.live.get(made)?.range).toBe(2); // range 1 is the other server's
  });

  it('destroys the sandboxes of a server gone for good, and none of a server that may come back', async () => {
    const leaseDir = path.join(dir, 'leases');
    const HOUR = 60 * MIN;
    const old = clock.now() - 5 * HOUR; // older than a lifetime (4 h)
    // Another server that stopped keeping its sandboxes (its lease is renewed): they wait for it.
    const other = manager({ idPrefix: 'sb-a00001-', leaseDir, keepOnShutdown: true });
    await other.start();
    await other.shutdown();
    // A server whose lease lapsed a lifetime ago (it was killed and never came back).
    const gone = manager({ idPrefix: 'sb-b00002-', leaseDir, keepOnShutdown: true });
    await gone.start();
    await gone.shutdown();
    await clock.advance(5 * HOUR);
    const waiting = manager({ idPrefix: 'sb-a00001-', leaseDir, keepOnShutdown: true });
    await waiting.start(); // renews the lease of sb-a00001-
    await waiting.shutdown();
    runtime.live.set('sb-a00001-000000000001', {
      id: 'sb-a00001-000000000001',
      running: true,
      range: 1,
      createdAt: old,
    });
    runtime.live.set('sb-b00002-000000000002', {
      id: 'sb-b00002-000000000002',
      running: true,
      range: 2,
      createdAt: old,
    });
    // No lease at all (its server ended its sandboxes; this one stayed), old enough, and a young one.
    runtime.live.set('sb-c00003-000000000003', {
      id: 'sb-c00003-000000000003',
      running: false,
      range: 3,
      createdAt: old,
    });
    runtime.live.set('sb-d00004-000000000004', {
      id: 'sb-d00004-000000000004',
      running: true,
      range: 4,
      createdAt: clock.now() - MIN,
    });

    const m = manager({ idPrefix: 'sb-e00005-', leaseDir });
    const { abandoned } = await m.start();
    expect(abandoned.sort()).toEqual(['sb-b00002-000000000002', 'sb-c00003-000000000003']);
    expect([...runtime.live.keys()].sort()).toEqual(['sb-a00001-000000000001', 'sb-d00004-000000000004']);
    // Its own lease is held while it runs, and released when it ends its sandboxes.
    expect(readdirSync(leaseDir).sort()).toEqual(['sb-a00001-.json', 'sb-b00002-.json', 'sb-e00005-.json']);
    await m.shutdown();
    expect(readdirSync(leaseDir)).not.toContain('sb-e00005-.json');
  });

  it('re-adopts running sandboxes, destroys orphans and forgets lost ones', async () => {
    const before = manager({ keepOnShutdown: true });
    const ana = ((await before.ensure('ana')) as { sandbox: { id: string } }).sandbox.id;
    const ben = ((await before.ensure('ben')) as { sandbox: { id: string } }).sandbox.id;
    await before.shutdown();
    runtime.live.delete(ben); // lost while the server was down
    runtime.live.set('sb-orphan', { id: 'sb-orphan', running: true, range: 99, createdAt: 0 });

    const after = manager();
    const { adopted, orphans, lost } = await after.start();
    expect(adopted).toEqual([ana]);
    expect(orphans).toEqual(['sb-orphan']);
    expect(lost).toEqual([ben]);
    expect(after.viewFor('ana')?.id).toBe(ana);
    expect(eventsFor('ben', 'ended')).toEqual([{ type: 'ended', sandboxId: ben, reason: 'lost' }]);
    expect(runtime.live.has('sb-orphan')).toBe(false);
    expect(runtime.live.has(ana)).toBe(true);
    // The idle clock keeps counting from the last recorded activity.
    await clock.advance(30 * MIN + ACTIVITY_LAG_MS);
    expect(after.viewFor('ana')).toBeNull();
  });
});

/** A replica's clock on the shared fake time, which can die: its timers never fire again. */
class ReplicaClock implements Clock {
  private handles = new Set<TimerHandle>();
  dead = false;
  constructor(private readonly time: FakeClock) {}
  now() {
    return this.time.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = this.time.setTimeout(() => {
      this.handles.delete(handle);
      if (!this.dead) fn();
    }, ms);
    this.handles.add(handle);
    return handle;
  }
  clearTimeout(handle: TimerHandle | undefined) {
    this.time.clearTimeout(handle);
    if (handle) this.handles.delete(handle);
  }
  kill() {
    this.dead = true;
    for (const h of this.handles) this.time.clearTimeout(h);
  }
}

describe('several replicas on one database', () => {
  const LEASE = { leaseMs: 6_000, renewMs: 2_000 };

  it('one leads; when it dies another takes over its timers: it reaps an idle sandbox and refills the pool', async () => {
    const bus = new LocalBus();
    const clockA = new ReplicaClock(clock);
    const clockB = new ReplicaClock(clock);
    const opts = { poolSize: 1, idleMs: 10 * MIN, warnBeforeMs: 2 * MIN, bus, leaseTiming: LEASE, tickMs: 5_000 };
    const a = manager({ ...opts, replicaId: 'a' }, clockA);
    await a.start();
    const b = manager({ ...opts, replicaId: 'b' }, clockB);
    await b.start();
    await settle();
    expect(runtime.created).toHaveLength(1); // one pool between them, not one each
    const lease = await db.clusterLease.findUniqueOrThrow({ where: { name: 'leader' } });
    expect(lease.holder).toBe('a');

    // Ana is served by B from the pool A warmed; B's cache knows her owner at once.
    const ana = await b.ensure('ana');
    const id = 'sandbox' in ana ? ana.sandbox.id : '';
    expect(id).toBe(runtime.created[0]!.id);
    expect(b.ownerOf(id)).toBe('ana');
    expect(a.ownerOf(id)).toBe('ana'); // A made it: the bus told it the owner
    await settle();
    expect(runtime.created).toHaveLength(2); // refilled

    clockA.kill(); // A dies: no renewals, no rounds
    await clock.advance(LEASE.leaseMs + LEASE.renewMs);
    expect((await db.clusterLease.findUniqueOrThrow({ where: { name: 'leader' } })).holder).toBe('b');

    // B, now leading, warns and reaps as the one process did.
    await clock.advance(8 * MIN);
    expect(eventsFor('ana', 'warning')).toHaveLength(1);
    await clock.advance(2 * MIN + ACTIVITY_LAG_MS);
    expect(runtime.destroyed).toEqual([id]);
    expect(eventsFor('ana', 'ended')).toEqual([{ type: 'ended', sandboxId: id, reason: 'idle' }]);
    expect(a.ownerOf(id)).toBeUndefined(); // gone from every cache

    // A sandbox A was starting when it died: B cleans it up, nothing leaks.
    runtime.live.set('sb-halfmade', { id: 'sb-halfmade', running: true, range: 50, createdAt: 0 });
    await db.sandbox.create({
      data: {
        id: 'sb-halfmade',
        idRange: 50,
        state: 'creating',
        holder: 'a',
        memoryBytes: 1n,
        pidsLimit: 1,
        cpus: 1,
        diskBytes: 1n,
      },
    });
    // Ben takes the warm one from B; the pool is warmed again (by B: A makes nothing any more).
    const made = runtime.created.length;
    expect('sandbox' in (await b.ensure('ben'))).toBe(true);
    await clock.advance(5_000);
    expect(runtime.live.has('sb-halfmade')).toBe(false);
    expect(await db.sandbox.count({ where: { id: 'sb-halfmade' } })).toBe(0);
    expect(runtime.created).toHaveLength(made + 1);
    expect(await db.sandbox.count({ where: { ownerId: null, state: 'ready' } })).toBe(1);
  });

  it('the same learner asking two replicas at once gets one sandbox, and the other replica serves it', async () => {
    const bus = new LocalBus();
    const a = manager({ bus, replicaId: 'a' });
    const b = manager({ bus, replicaId: 'b' });
    await Promise.all([a.start(), b.start()]);
    const [fromA, fromB] = await Promise.all([a.ensure('ana'), b.ensure('ana')]);
    expect(fromA).toEqual(fromB);
    expect(runtime.created).toHaveLength(1);
    const id = 'sandbox' in fromA ? fromA.sandbox.id : '';
    // A third replica that never saw it answers from the database.
    const c = manager({ bus, replicaId: 'c' });
    expect(c.ownerOf(id)).toBeUndefined();
    expect(await c.lookupOwner(id)).toBe('ana');
    expect(c.viewFor('ana')?.id).toBe(id);
    await c.release('ana');
    expect(runtime.destroyed).toEqual([id]);
    expect(a.ownerOf(id) ?? b.ownerOf(id)).toBeUndefined();
  });

  it('two replicas ending the same sandbox at once end it once', async () => {
    const bus = new LocalBus();
    const a = manager({ bus, replicaId: 'a' });
    const b = manager({ bus, replicaId: 'b' });
    await Promise.all([a.start(), b.start()]);
    const r = await a.ensure('ana');
    const id = 'sandbox' in r ? r.sandbox.id : '';
    await Promise.all([a.release('ana'), b.release('ana'), b.reset('ana').catch(() => {})]);
    await settle();
    expect(runtime.destroyed.filter((d) => d === id)).toHaveLength(1);
    expect(eventsFor('ana', 'ended').filter((e) => (e as { sandboxId: string }).sandboxId === id)).toHaveLength(1);
  });

  it('a replica starting leaves what a live replica is starting, and forgets what a dead one left', async () => {
    const bus = new LocalBus();
    const alive = manager({ bus, replicaId: 'alive', keepOnShutdown: true });
    await alive.start();
    const row = (id: string, idRange: number, holder: string) => ({
      id,
      idRange,
      state: 'creating',
      holder,
      memoryBytes: 1n,
      pidsLimit: 1,
      cpus: 1,
      diskBytes: 1n,
    });
    await db.sandbox.create({ data: row('sb-alive-starting', 11, 'alive') });
    await db.sandbox.create({ data: row('sb-dead-starting', 12, 'dead') });
    runtime.live.set('sb-alive-starting', { id: 'sb-alive-starting', running: true, range: 11, createdAt: 0 });
    const { lost, orphans } = await manager({ bus, replicaId: 'new' }).start();
    expect(lost).toEqual(['sb-dead-starting']);
    expect(orphans).toEqual([]);
    expect(runtime.live.has('sb-alive-starting')).toBe(true);
    expect(await db.sandbox.count({ where: { id: 'sb-alive-starting' } })).toBe(1);
  });

  it('a workshop prewarmed on one replica shrinks back as learners take its sandboxes on the other', async () => {
    const bus = new LocalBus();
    const a = manager({ bus, replicaId: 'a', poolSize: 1 });
    const b = manager({ bus, replicaId: 'b', poolSize: 1 });
    await Promise.all([a.start(), b.start()]);
    await settle();
    expect(runtime.created).toHaveLength(1); // one pool between them
    a.prewarm(4);
    await settle();
    expect(runtime.created).toHaveLength(4);
    for (const who of ['ana', 'ben', 'cho', 'dan']) await b.ensure(who);
    await settle();
    // Four taken from the warm pool on B; only the usual one is warmed again, by either.
    expect(runtime.created).toHaveLength(5);
    expect(await db.sandbox.count({ where: { ownerId: null } })).toBe(1);
  });
});
