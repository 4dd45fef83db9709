// The dashboard's cells on a real (SQLite) database with the clock moved by hand: a learner far beyond
// the room's median time on a step is "stuck", one within it "working", finished steps "done".
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLessons } from '@dockside/lessons';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import type { Engine } from '../engine/engine';
import { REPO_ROOT } from '../paths';
import { DashboardData } from './dashboard';

const lessons = loadLessons(path.join(REPO_ROOT, 'lessons', 'content'));
const intro = lessons.find((l) => l.id === 'Docker_Intro')!;
const [first, second] = [intro.steps[0]!.id, intro.steps[1]!.id];
// Nobody in this room has a sandbox: the cells come from progress alone.
const noSandboxes = { sandboxOf: () => null, sandboxOfAnyReplica: async () => null } as unknown as Engine;

let dir: string;
let db: Db;
let now: number;
const at = (seconds: number) => new Date(now + seconds * 1000);

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-dashboard-'));
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
  now = Date.parse('2026-03-02T09:00:00Z');
  await db.instructor.create({ data: { id: 'kim', email: 'kim@example.com', passwordHash: 'x' } });
  await db.workshop.create({
    data: { id: 'w', title: 'Room', joinCode: 'ABCDEFGH', lessonIds: '["Docker_Intro"]', seatLimit: 5, ownerId: 'kim' },
  });
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** The room as the dashboard shows it now: each learner's cell for a step of Docker_Intro. */
async function room() {
  const snap = await new DashboardData(
    db,
    noSandboxes,
    () => lessons,
    () => now,
  ).snapshot('w');
  const cell = (who: string, step: string) =>
    snap.learners.find((l) => l.learnerId === who)!.cells.Docker_Intro![step]!;
  return { median: snap.medianStepSeconds, cell };
}

async function learner(id: string, joinedAt: Date, steps: { stepId: string; started: Date; done?: Date }[]) {
  await db.learner.create({ data: { id, displayName: id } });
  await db.enrollment.create({ data: { id: `e-${id}`, workshopId: 'w', learnerId: id, joinedAt } });
  for (const s of steps)
    await db.lessonProgress.create({
      data: {
        id: `${id}-${s.stepId}`,
        learnerId: id,
        lessonId: 'Docker_Intro',
        stepId: s.stepId,
        status: s.done ? 'passed' : 'working',
        startedAt: s.started,
        completedAt: s.done ?? null,
      },
    });
}

describe('dashboard cells', () => {
  it('marks a learner stuck past twice the room median, working within it, and done steps done', async () => {
    // The first step took 60 s and 100 s: median 80 s, so stuck after 160 s on a step.
    await learner('ana', at(-400), [
      { stepId: first, started: at(-400), done: at(-340) },
      { stepId: second, started: at(-150) },
    ]);
    await learner('ben', at(-400), [{ stepId: first, started: at(-400), done: at(-300) }]); // on step 2 since then
    await learner('cho', at(-400), [{ stepId: first, started: at(-170) }]);

    const { median, cell } = await room();
    expect(median).toBe(80);
    expect(cell('ana', first)).toMatchObject({ state: 'done', seconds: 60 });
    expect(cell('ana', second)).toMatchObject({ state: 'working', seconds: 150 });
    expect(cell('ben', second)).toMatchObject({ state: 'stuck', seconds: 300 });
    expect(cell('cho', first)).toMatchObject({ state: 'stuck', seconds: 170 });
    expect(cell('cho', second)).toMatchObject({ state: 'pending' });

    // Ten seconds later Ana is still within 160 s; at 161 s she is stuck too.
    now += 10_000;
    expect((await room()).cell('ana', second).state).toBe('working');
    now += 1_000;
    expect((await room()).cell('ana', second)).toMatchObject({ state: 'stuck', seconds: 161 });
  });

  it('waits at least two minutes before calling anyone stuck, even in a fast room', async () => {
    await learner('ana', at(-200), [{ stepId: first, started: at(-200), done: at(-190) }]); // median 10 s
    await learner('ben', at(-100), [{ stepId: first, started: at(-100) }]);
    expect((await room()).cell('ben', first).state).toBe('working');
    now += 21_000;
    expect((await room()).cell('ben', first).state).toBe('stuck');
  });
});
