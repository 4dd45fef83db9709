// Two sandbox managers — two replicas, each with its own database client and clock — sharing one
// PostgreSQL database and this machine's real runtime: a burst of joins split across both hands out no
// sandbox twice and leaks none, and when the leader dies the other takes over its timers.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../../src/cluster/bus';
import { createDb, migrate, type Db } from '../../src/db/client';
import { systemClock, type Clock, type TimerHandle } from '../../src/engine/clock';
import { SandboxManager, type EnsureResult, type ManagerEvent, type ManagerOptions } from '../../src/engine/manager';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

// CI and `npm test` start a PostgreSQL server and set this (scripts/test-services.mjs).
const PG_URL = process.env.DOCKSIDE_TEST_POSTGRES_URL;

/** A replica's clock that can die with it: its timers never fire again, as after a kill -9. */
class ReplicaClock implements Clock {
  private handles = new Set<TimerHandle>();
  private dead = false;
  now() {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = systemClock.setTimeout(() => {
      this.handles.delete(handle);
      if (!this.dead) fn();
    }, ms);
    this.handles.add(handle);
    return handle;
  }
  clearTimeout(handle: TimerHandle | undefined) {
    systemClock.clearTimeout(handle);
    if (handle) this.handles.delete(handle);
  }
  kill() {
    this.dead = true;
    for (const h of this.handles) systemClock.clearTimeout(h);
  }
}

async function until(what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.runIf(sandboxesAvailable() && PG_URL)('sandbox managers of two replicas on one PostgreSQL', () => {
  const dbName = `dockside_cluster_${process.pid}`;
  const withDb = (name: string) => {
    const u = new URL(PG_URL!);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(sql);
    await c.end();
  };

  let dataDir: string;
  let runtime: NativeRuntime;
  let prefix: string;
  let clients: Db[];
  let managers: SandboxManager[];
  let events: { replica: string; learnerId: string; event: ManagerEvent }[];
  let bus: LocalBus;

  /** A replica: its own database client (its own pool of connections) and clock; one bus between them. */
  function replica(name: string, clock: Clock, opts: Partial<ManagerOptions>): SandboxManager {
    const db = createDb({ provider: 'postgresql', url: withDb(dbName) });
    clients.push(db);
    const m = new SandboxManager(db, runtime, clock, {
      poolSize: 0,
      maxSandboxes: 6,
      idleMs: 30 * 60_000,
      lifetimeMs: 4 * 3600_000,
      warnBeforeMs: 60_000,
      limits: { memoryBytes: 512 * 1024 ** 2, pids: 1024, cpus: 1, diskBytes: 1024 ** 3 },
      keepOnShutdown: false,
      seatLimit: async () => null,
      idPrefix: prefix,
      bus,
      replicaId: name,
      leaseTiming: { leaseMs: 3_000, renewMs: 1_000 },
      tickMs: 1_000,
      ...opts,
    });
    m.subscribe((learnerId, event) => events.push({ replica: name, learnerId, event }));
    managers.push(m);
    return m;
  }

  const ours = async () => (await runtime.list()).filter((s) => s.id.startsWith(prefix)).map((s) => s.id);

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-cluster-'));
    mkdirSync(path.join(dataDir, 'images'));
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    runtime = new NativeRuntime(dataDir);
    prefix = `sb-${randomBytes(3).toString('hex')}-`;
    clients = [];
    managers = [];
    events = [];
    bus = new LocalBus();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${dbName}`);
    await migrate({ provider: 'postgresql', url: withDb(dbName) });
  });

  afterEach(async () => {
    for (const m of managers) await m.shutdown().catch(() => {});
    for (const id of await ours()) await runtime.destroy(id).catch(() => {});
    for (const db of clients) await db.$disconnect();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('40 joins at once split across both: no sandbox handed out twice, the rest queued in order, none leaked', async () => {
    const a = replica('a', new ReplicaClock(), { poolSize: 2 });
    const b = replica('b', new ReplicaClock(), { poolSize: 2 });
    await a.start();
    await b.start();
    const db = clients[0]!;
    await until('the warm pool', async () => (await db.sandbox.count({ where: { state: 'ready' } })) === 2, 120_000);
    const learners = Array.from({ length: 40 }, (_, i) => `learner-${String(i).padStart(2, '0')}`);
    await db.learner.createMany({ data: learners.map((id) => ({ id })) });

    const burst = Date.now();
    const results = await Promise.all(learners.map((id, i) => (i % 2 ? b : a).ensure(id)));
    console.log(`40 joins across two replicas answered in ${Date.now() - burst} ms (4 new sandboxes started)`);
    const given = results.flatMap((r) => ('sandbox' in r ? [r.sandbox.id] : []));
    const queued = results.flatMap((r) => ('queued' in r ? [r.queued.position] : []));
    expect(given.length).toBe(6); // the machine's capacity, pool included
    expect(new Set(given).size).toBe(given.length);
    expect(queued.sort((x, y) => x - y)).toEqual(Array.from({ length: 34 }, (_, i) => i + 1));
    const rows = await db.sandbox.findMany();
    expect(rows.length).toBe(6);
    expect(new Set(rows.map((r) => r.ownerId)).size).toBe(6);
    expect(new Set(rows.map((r) => r.idRange)).size).toBe(6);
    expect((await ours()).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(await db.queueEntry.count()).toBe(34);
    // Asking again, on the other replica, changes nothing.
    const again = await Promise.all(learners.map((id, i) => (i % 2 ? a : b).ensure(id)));
    expect(again.map(kind)).toEqual(results.map(kind));

    // Everyone leaves (on either replica): every sandbox goes, those started for the queue on the way too.
    await Promise.all(learners.map((id, i) => (i % 3 ? a : b).release(id)));
    await Promise.all(managers.map((m) => m.settled()));
    await until('the last releases', async () => (await db.sandbox.count({ where: { ownerId: { not: null } } })) === 0);
    await until('the pool back at its size', async () => (await db.sandbox.count({ where: { state: 'ready' } })) === 2);
    await Promise.all(managers.map((m) => m.settled()));
    const left = await db.sandbox.findMany();
    expect(left.every((r) => r.ownerId === null)).toBe(true);
    expect((await ours()).sort()).toEqual(left.map((r) => r.id).sort());
    expect(await db.queueEntry.count()).toBe(0);
  });

  it('when the leader dies the other replica leads: it reaps an idle sandbox and refills the pool', async () => {
    const clockA = new ReplicaClock();
    const opts = { poolSize: 1, idleMs: 4_000, warnBeforeMs: 2_000 };
    const a = replica('a', clockA, opts);
    await a.start();
    const b = replica('b', new ReplicaClock(), opts);
    await b.start();
    const db = clients[1]!;
    expect((await db.clusterLease.findUniqueOrThrow({ where: { name: 'leader' } })).holder).toBe('a');
    await until('the warm pool', async () => (await db.sandbox.count({ where: { state: 'ready' } })) === 1, 120_000);
    await db.learner.create({ data: { id: 'ana' } });

    const r = await b.ensure('ana');
    if (!('sandbox' in r)) throw new Error('ana was queued');
    const id = r.sandbox.id;
    expect(await a.lookupOwner(id)).toBe('ana');

    clockA.kill(); // A stops renewing and acting, as if killed
    const killed = Date.now();
    await until('B leading', async () => {
      const lease = await db.clusterLease.findUnique({ where: { name: 'leader' } });
      return lease?.holder === 'b';
    });
    expect(Date.now() - killed).toBeLessThan(6_000);
    const ended = () => events.some((e) => e.event.type === 'ended' && e.event.sandboxId === id);
    await until('the idle sandbox reaped', async () => ended(), 60_000);
    expect(await ours()).not.toContain(id);
    const byB = events.filter((e) => e.replica === 'b' && e.learnerId === 'ana').map((e) => e.event);
    expect(byB).toContainEqual({ type: 'warning', reason: 'idle', at: expect.any(String) });
    expect(byB).toContainEqual({ type: 'ended', sandboxId: id, reason: 'idle' });
    expect(events.some((e) => e.replica === 'a' && e.event.type === 'ended')).toBe(false);
    expect(await db.sandbox.count({ where: { id } })).toBe(0);
    // The pool it took from is warm again, and what runs is what the database knows.
    await until(
      'the pool refilled',
      async () => (await db.sandbox.count({ where: { state: 'ready', ownerId: null } })) === 1,
      120_000,
    );
    await Promise.all(managers.map((m) => m.settled()));
    expect((await ours()).sort()).toEqual((await db.sandbox.findMany()).map((r) => r.id).sort());
  });
});

const kind = (r: EnsureResult) => ('sandbox' in r ? `sandbox ${r.sandbox.id}` : `queued ${r.queued.position}`);
