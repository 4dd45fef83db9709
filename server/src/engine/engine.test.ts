// The engine's front door, with a fake runtime: who may use a sandbox, the seat policy it is given, and
// its events. The real runtime is tested in test/engine.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import { FakeClock } from './clock';
import { Engine, SandboxAccessError, type EngineEvent, type SeatPolicy } from './engine';
import { ProgressStore } from './progress';
import type { Runtime, RuntimeSandbox } from './runtime';

/** Sandboxes in a map; nothing runs. */
function fakeRuntime(): Runtime {
  const live = new Map<string, RuntimeSandbox>();
  const none = async () => ({ code: 0, stdout: Buffer.alloc(0), stderr: '' });
  return {
    create: async (id: string, range: number) => void live.set(id, { id, running: true, range, createdAt: Date.now() }),
    stop: async () => {},
    destroy: async (id: string) => void live.delete(id),
    list: async () => [...live.values()],
    exec: none,
    file: none,
    openSession: async () => {},
    sessions: async () => [],
    sessionSocket: (id: string, name: string) => `/nonexistent/${id}/${name}.sock`,
    connect: async () => new PassThrough(),
    dockerSocket: (id: string) => `/nonexistent/${id}.sock`,
  } as unknown as Runtime;
}

let dir: string;
let db: Db;
let clock: FakeClock;
let workshopOf: Map<string, string>;
let seatLimits: Map<string, number>;
let events: EngineEvent[];

const seats: SeatPolicy = {
  workshopOf: async (learnerId) => workshopOf.get(learnerId) ?? null,
  seatLimit: async (workshopId) => seatLimits.get(workshopId) ?? null,
};

function engine(): Engine {
  const e = new Engine(
    { db, runtime: fakeRuntime(), clock, seats, progress: new ProgressStore(db), lessons: () => [] },
    {
      poolSize: 0,
      maxSandboxes: 10,
      idleMs: 30 * 60_000,
      lifetimeMs: 240 * 60_000,
      warnBeforeMs: 5 * 60_000,
      limits: { memoryBytes: 1 << 30, pids: 2048, cpus: 1, diskBytes: 8 << 30 },
      keepOnShutdown: false,
      terminalSecret: 'test',
    },
  );
  e.subscribe((ev) => events.push(ev));
  return e;
}

async function sandboxFor(e: Engine, learnerId: string): Promise<string> {
  const r = await e.ensure(learnerId, null);
  if (!('sandbox' in r)) throw new Error(`${learnerId} was queued`);
  return r.sandbox.id;
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-engine-'));
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
  clock = new FakeClock();
  workshopOf = new Map();
  seatLimits = new Map();
  events = [];
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('authorize', () => {
  it("gives the learner their own sandbox, and refuses one that is someone else's or not running", async () => {
    const e = engine();
    const ana = await sandboxFor(e, 'ana');
    await sandboxFor(e, 'ben');
    expect(e.authorize('ana', ana)).toBe(ana);
    expect(() => e.authorize('ben', ana)).toThrow(expect.objectContaining({ reason: 'forbidden' }));
    expect(() => e.authorize('ana', 'sb-000000000000')).toThrow(SandboxAccessError);
    expect(() => e.authorize('ana', 'sb-000000000000')).toThrow(expect.objectContaining({ reason: 'not_running' }));
    await e.shutdown();
  });

  it('marks the sandbox active: it keeps it from the idle timeout', async () => {
    const e = engine();
    const ana = await sandboxFor(e, 'ana');
    const before = e.sandboxOf('ana')!.idleUntil;
    await clock.advance(10 * 60_000);
    e.authorize('ana', ana);
    expect(Date.parse(e.sandboxOf('ana')!.idleUntil)).toBe(Date.parse(before) + 10 * 60_000);
    await e.shutdown();
  });

  it("opens no terminal in a sandbox that is not the learner's", async () => {
    const e = engine();
    const ana = await sandboxFor(e, 'ana');
    await expect(e.openTerminal('ben', ana, { cols: 80, rows: 24 })).rejects.toThrow(SandboxAccessError);
    expect(e.input('ben', 't-000000000000', 'ls\r')).toBe(false);
    await e.shutdown();
  });
});

describe('the seat policy it is given', () => {
  it("counts a start against the learner's workshop's seats: past them, the next learner waits", async () => {
    await db.instructor.create({ data: { id: 'kim', email: 'kim@example.com', passwordHash: 'x' } });
    for (const [id, joinCode] of [
      ['w1', 'AAAAAAAA'],
      ['w2', 'BBBBBBBB'],
    ] as const)
      await db.workshop.create({ data: { id, title: id, joinCode, lessonIds: '[]', seatLimit: 1, ownerId: 'kim' } });
    workshopOf.set('ana', 'w1').set('ben', 'w1').set('cho', 'w2');
    seatLimits.set('w1', 1);
    const e = engine();
    expect('sandbox' in (await e.ensure('ana', null))).toBe(true);
    expect(await e.ensure('ben', null)).toMatchObject({ queued: { position: 1 } });
    expect('sandbox' in (await e.ensure('cho', null))).toBe(true); // another workshop's seats
    await e.release('ana');
    await clock.advance(0);
    await expect.poll(() => e.sandboxOf('ben')).not.toBeNull();
    await e.shutdown();
  });
});

describe('subscribe', () => {
  it('tells every subscriber what happens to sandboxes, until it unsubscribes', async () => {
    const e = engine();
    const mine: EngineEvent[] = [];
    const unsubscribe = e.subscribe((ev) => mine.push(ev));
    const ana = await sandboxFor(e, 'ana');
    expect(mine).toContainEqual({
      type: 'sandbox',
      learnerId: 'ana',
      event: expect.objectContaining({ type: 'state' }),
    });
    unsubscribe();
    const seen = mine.length;
    await e.release('ana');
    expect(mine).toHaveLength(seen);
    expect(events).toContainEqual({
      type: 'sandbox',
      learnerId: 'ana',
      event: { type: 'ended', sandboxId: ana, reason: 'released' },
    });
    await e.shutdown();
  });
});
