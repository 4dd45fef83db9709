// Id ranges against a real SQLite database and the real admission lock; the runtime is a double that
// refuses ranges the way the native one does when something on the host has those ids (native/src/ids.c).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withAdmissionLock } from '../cluster/admissionLock';
import { createDb, migrate, type Db } from '../db/client';
import { CapacityError } from './capacity';
import { IdRanges } from './idRanges';
import type { Runtime, RuntimeSandbox } from './runtime';

const LIMITS = { memoryBytes: 1 << 30, pids: 2048, cpus: 1, diskBytes: 8 << 30 };

let dir: string;
let db: Db;

/** What the runtime is asked, and the ranges it refuses as taken on this host. */
function runtime(opts: { taken?: number[]; live?: RuntimeSandbox[]; fail?: Error } = {}) {
  const created: { id: string; range: number }[] = [];
  let lists = 0;
  const rt = {
    async create(id: string, range: number) {
      if (opts.fail) throw opts.fail;
      if (opts.taken?.includes(range))
        throw Object.assign(new Error(`id range ${range} (host ids …) overlaps someone's ids in /etc/subuid`), {
          kind: 'exists',
        });
      created.push({ id, range });
    },
    async list() {
      lists++;
      return opts.live ?? [];
    },
  } as unknown as Runtime;
  return { rt, created, lists: () => lists };
}

const ranges = (rt: Runtime, maxRange?: number) => new IdRanges(rt, (fn) => withAdmissionLock(db, fn), maxRange);

async function row(id: string, idRange: number) {
  await db.sandbox.create({
    data: { id, idRange, state: 'creating', memoryBytes: 1n, pidsLimit: 1, cpus: 1, diskBytes: 1n },
  });
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-idranges-'));
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('id ranges', () => {
  it('moves a sandbox off ranges the host refuses, records the new one on its row, and never offers them again', async () => {
    const { rt, created } = runtime({ taken: [1, 2] });
    const r = ranges(rt);
    await row('sb-a', 1);
    const sandbox = { id: 'sb-a', range: 1 };
    await r.createIn(sandbox, LIMITS);
    expect(created).toEqual([{ id: 'sb-a', range: 3 }]);
    expect(sandbox.range).toBe(3);
    expect((await db.sandbox.findUniqueOrThrow({ where: { id: 'sb-a' } })).idRange).toBe(3);
    // 1 and 2 are the host's now; 3 is the sandbox's row.
    expect(await withAdmissionLock(db, (tx) => r.free(tx, new Set()))).toBe(4);
  });

  it('fails a start with the runtime’s own error when it is not a taken range', async () => {
    const engine = Object.assign(new Error('engine did not answer'), { kind: 'failed' });
    const r = ranges(runtime({ fail: engine }).rt);
    await row('sb-a', 1);
    await expect(r.createIn({ id: 'sb-a', range: 1 }, LIMITS)).rejects.toBe(engine);
    expect((await db.sandbox.findUniqueOrThrow({ where: { id: 'sb-a' } })).idRange).toBe(1);
    expect(await withAdmissionLock(db, (tx) => r.free(tx, new Set()))).toBe(2); // 1 is still the row's
  });

  it('skips the ranges the runtime runs for other databases, listing it at most every few seconds', async () => {
    const { rt, lists } = runtime({ live: [{ id: 'other-1', running: true, range: 1, createdAt: 0 }] });
    const r = ranges(rt);
    const known = await r.known();
    expect([...known]).toEqual([1]);
    await r.known();
    expect(lists()).toBe(1);
    expect(await withAdmissionLock(db, (tx) => r.free(tx, known))).toBe(2);
  });

  it('says there is no free range past the largest', async () => {
    const r = ranges(runtime().rt, 2);
    await row('sb-a', 1);
    await row('sb-b', 2);
    const free = withAdmissionLock(db, (tx) => r.free(tx, new Set()));
    await expect(free).rejects.toBeInstanceOf(CapacityError);
    await expect(free).rejects.toThrow('no free id range');
  });
});
