import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import { SharedRateLimiter, SharedTokenBucket } from '../workshops/rateLimit';
import { addressKey, Admission, AdmissionError, DEFAULT_ADMISSION } from './admission';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-admission-'));
let db: Db;
beforeAll(async () => {
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
});
afterAll(async () => {
  await db?.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const request = (remoteAddress: string, forwardedFor?: string | string[]) =>
  ({
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

describe('client address', () => {
  it('ignores X-Forwarded-For unless a proxy is trusted: a client cannot pick its own address', () => {
    const a = new Admission(db, DEFAULT_ADMISSION);
    expect(a.clientAddress(request('203.0.113.7', '198.51.100.1'))).toBe('203.0.113.7');
  });

  it('behind trusted proxies takes the address the outermost one saw, not what the client wrote', () => {
    const one = new Admission(db, { ...DEFAULT_ADMISSION, trustedProxies: 1 });
    // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the address it saw.
    expect(one.clientAddress(request('10.0.0.2', '1.1.1.1, 203.0.113.7'))).toBe('203.0.113.7');
    expect(one.clientAddress(request('10.0.0.2', ['1.1.1.1', '203.0.113.7']))).toBe('203.0.113.7');
    expect(one.clientAddress(request('10.0.0.2'))).toBe('10.0.0.2');
    const two = new Admission(db, { ...DEFAULT_ADMISSION, trustedProxies: 2 });
    expect(two.clientAddress(request('10.0.0.3', '1.1.1.1, 203.0.113.7, 10.0.0.2'))).toBe('203.0.113.7');
  });

  it('counts IPv6 by its /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('x'.repeat(500))).toHaveLength(100);
  });
});

describe('learner rows', () => {
  it('writes a learner row once, on the first real action', async () => {
    const a = new Admission(db, DEFAULT_ADMISSION);
    await Promise.all([a.learner('row-once', { address: 'a' }), a.learner('row-once', { address: 'a' })]);
    await a.learner('row-once', { address: 'a' });
    expect(await db.learner.count({ where: { id: 'row-once' } })).toBe(1);
  });

  it('refuses new self-paced learners from one address past the hourly budget, with when to retry', async () => {
    let now = 0;
    const a = new Admission(db, { ...DEFAULT_ADMISSION, newLearnersPerHour: 3 }, () => now);
    for (let i = 0; i < 3; i++) await a.learner(`flood-${i}`, { address: '203.0.113.9' });
    const refused = await a.learner('flood-3', { address: '203.0.113.9' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AdmissionError);
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfter: 20 * 60 });
    expect((refused as Error).message).toBe('too many new learners from your network; try again in 20 min');
    expect(await db.learner.count({ where: { id: 'flood-3' } })).toBe(0);
    // Known learners, joins (seats limit those) and other addresses go on; the budget refills.
    await a.learner('flood-0', { address: '203.0.113.9' });
    await a.learner('joiner', { address: '203.0.113.9' }, true);
    await a.learner('other', { address: '198.51.100.1' });
    now += 20 * 60_000;
    await a.learner('flood-3', { address: '203.0.113.9' });
    expect(await db.learner.count({ where: { id: { startsWith: 'flood-' } } })).toBe(4);
  });

  it('charges starts to the address when self-paced, to the learner in a workshop, to no one for an instructor', async () => {
    const a = new Admission(db, { ...DEFAULT_ADMISSION, startsPerHour: 2 }, () => 0);
    const client = { address: '203.0.113.10' };
    await a.startCharge('ana', null, client)!();
    await a.startCharge('ben', null, client)!();
    await expect(a.startCharge('cho', null, client)!()).rejects.toThrow(
      /^too many sandboxes started or reset from your network; try again in 30 min$/,
    );
    // Workshop learners behind the same address each have their own budget.
    for (const who of ['ana', 'ben', 'cho']) await a.startCharge(who, 'ws1', client)!();
    await a.startCharge('ana', 'ws1', client)!();
    await expect(a.startCharge('ana', 'ws1', client)!()).rejects.toThrow(/you started or reset your sandbox too often/);
    expect(a.startCharge('ana', 'ws1', null)).toBeUndefined();
  });

  it('keeps the budgets in the database: another replica sees what this one spent', async () => {
    const one = new Admission(db, { ...DEFAULT_ADMISSION, startsPerHour: 3 }, () => 0);
    const other = new Admission(db, { ...DEFAULT_ADMISSION, startsPerHour: 3 }, () => 0);
    const client = { address: '203.0.113.11' };
    await one.startCharge('ana', null, client)!();
    await other.startCharge('ben', null, client)!();
    await one.startCharge('cho', null, client)!();
    await expect(other.startCharge('dan', null, client)!()).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

describe('shared counters (several replicas)', () => {
  it('a token bucket refills steadily and says how long until the next one', async () => {
    let now = 0;
    const b = new SharedTokenBucket(db, 'test-bucket', 4, 60_000, () => now);
    for (let i = 0; i < 4; i++) expect(await b.take('k')).toBe(0);
    expect(await b.take('k')).toBe(15);
    now += 15_000;
    expect(await b.take('k')).toBe(0);
    expect(await b.take('k')).toBe(15);
  });

  it('tells whether the next attempt would be refused without counting it', async () => {
    let now = 0;
    const rl = new SharedRateLimiter(db, 'test-blocked', 2, 60_000, () => now);
    expect(await rl.blocked('ip')).toBe(0);
    await rl.hit('ip');
    expect([await rl.blocked('ip'), await rl.blocked('ip')]).toEqual([0, 0]);
    await rl.hit('ip');
    expect(await rl.blocked('ip')).toBe(60);
    now = 45_000;
    expect(await rl.blocked('ip')).toBe(15);
    now = 60_000;
    expect(await rl.blocked('ip')).toBe(0);
  });

  it('a shared fixed window counts every attempt of every replica, at once too', async () => {
    let now = 0;
    const replicas = [0, 1, 2].map(() => new SharedRateLimiter(db, 'test-window', 10, 60_000, () => now));
    const waits = await Promise.all(Array.from({ length: 25 }, (_, i) => replicas[i % 3]!.hit('ip')));
    expect(waits.filter((w) => w === 0)).toHaveLength(10);
    expect(waits.filter((w) => w === 60)).toHaveLength(15);
    expect(await replicas[1]!.blocked('ip')).toBe(60);
    expect(await replicas[2]!.blocked('other')).toBe(0);
    now = 30_000;
    expect(await replicas[0]!.hit('ip')).toBe(30);
    now = 60_000;
    expect(await replicas[1]!.blocked('ip')).toBe(0);
    expect(await replicas[2]!.hit('ip')).toBe(0);
    await replicas[0]!.reset('ip');
    now = 61_000;
    for (let i = 0; i < 10; i++) expect(await replicas[i % 3]!.hit('ip')).toBe(0);
    expect(await replicas[1]!.hit('ip')).toBe(60);
  });
});
