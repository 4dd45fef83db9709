// A workshop whose time is up is ended once, though every replica looks for such workshops: two Workshops
// on one (SQLite) database, as two replicas would be on one PostgreSQL, ending it at the same moment.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLessons } from '@dockside/lessons';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import type { Engine } from '../engine/engine';
import { REPO_ROOT } from '../paths';
import { Workshops, type WorkshopEvent } from './workshops';

const lessons = loadLessons(path.join(REPO_ROOT, 'lessons', 'content'));
const kim = { id: 'kim', email: 'kim@example.com', name: 'Kim', isAdmin: true };

let dir: string;
let db: Db;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-ws-ending-'));
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
  await db.instructor.create({ data: { id: 'kim', email: 'kim@example.com', passwordHash: 'x' } });
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('ending a workshop whose time is up', () => {
  it('tells each learner once and ends each sandbox once, though two replicas end it together', async () => {
    let clock = Date.parse('2026-03-02T09:00:00Z');
    const released: string[] = [];
    const engine = { prewarm: () => {}, release: async (id: string) => void released.push(id) } as unknown as Engine;
    const replicas = [0, 1].map(() => {
      const events: WorkshopEvent[] = [];
      const w = new Workshops(
        db,
        engine,
        () => lessons,
        () => clock,
      );
      w.subscribe((e) => events.push(e));
      return { w, events };
    });
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    const ws = await a.w.create(kim, {
      title: 'Morning',
      lessonIds: ['Docker_Intro'],
      exercises: [],
      seatLimit: 5,
      durationMinutes: 60,
      locale: 'en',
      keepSandboxes: false,
    });
    await a.w.open(kim, ws.id);
    for (const id of ['ana', 'ben']) {
      await db.learner.create({ data: { id, displayName: id } });
      await db.enrollment.create({ data: { id: `e-${id}`, workshopId: ws.id, learnerId: id } });
    }
    a.events.length = 0;

    clock += 61 * 60_000;
    await Promise.all([a.w.endExpired(), b.w.endExpired()]);
    const all = [...a.events, ...b.events];
    expect(
      all
        .filter((e) => e.type === 'notify')
        .map((e) => e.type === 'notify' && e.learnerId)
        .sort(),
    ).toEqual(['ana', 'ben']);
    expect(all.filter((e) => e.type === 'changed')).toHaveLength(1);
    expect(released.sort()).toEqual(['ana', 'ben']);
    expect((await a.w.get(kim, ws.id)).state).toBe('ended');

    // Ending it again (the instructor's button, late) tells nobody again.
    await b.w.end(kim, ws.id);
    expect([...a.events, ...b.events]).toHaveLength(all.length);
  });
});
