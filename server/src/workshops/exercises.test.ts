// Exercises in a workshop, on a real (SQLite) database: an instructor picks exercises beside lessons, the
// dashboard shows them as columns after their lesson's steps, the results and the CSV list them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLessons } from '@dockside/lessons';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import type { Engine } from '../engine/engine';
import { REPO_ROOT } from '../paths';
import { DashboardData } from './dashboard';
import { Workshops } from './workshops';

const lessons = loadLessons(path.join(REPO_ROOT, 'lessons', 'content'));
const intro = lessons.find((l) => l.id === 'Docker_Intro')!;
// Nobody has a sandbox: everything comes from progress.
const noSandboxes = { sandboxOf: () => null, sandboxOfAnyReplica: async () => null } as unknown as Engine;
const kim = { id: 'kim', email: 'kim@example.com', name: 'Kim', isAdmin: true };
const input = {
  title: 'Practice',
  lessonIds: ['Docker_Intro'],
  exercises: [
    { lessonId: 'Docker_Intro', exerciseId: 'revive-web' },
    { lessonId: 'Docker_Layers', exerciseId: 'secret-layer' },
  ],
  seatLimit: 5,
  durationMinutes: 60,
  locale: 'en' as const,
  keepSandboxes: false,
};

let dir: string;
let db: Db;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-ws-exercises-'));
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
  await db.instructor.create({ data: { id: 'kim', email: 'kim@example.com', passwordHash: 'x' } });
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('exercises in a workshop', () => {
  it('shows picked exercises after their lesson’s steps on the dashboard, in the results and the CSV', async () => {
    const workshops = new Workshops(db, noSandboxes, () => lessons);
    const w = await workshops.create(kim, input);
    expect(w.lessonIds).toEqual(['Docker_Intro']);
    expect(w.exercises).toEqual(input.exercises);

    await db.learner.create({ data: { id: 'ana', displayName: 'Ana' } });
    await db.enrollment.create({ data: { id: 'e-ana', workshopId: w.id, learnerId: 'ana' } });
    const started = new Date('2026-03-02T09:00:00Z');
    await db.lessonProgress.create({
      data: {
        id: 'p1',
        learnerId: 'ana',
        lessonId: 'Docker_Intro',
        stepId: 'exercise:revive-web',
        status: 'passed',
        startedAt: started,
        completedAt: new Date(started.getTime() + 95_000),
      },
    });

    const snap = await new DashboardData(db, noSandboxes, () => lessons).snapshot(w.id);
    expect(snap.lessons.map((l) => l.id)).toEqual(['Docker_Intro', 'Docker_Layers']);
    expect(snap.lessons[0]!.steps.map((s) => s.id)).toEqual([...intro.steps.map((s) => s.id), 'exercise:revive-web']);
    // A lesson only an exercise comes from shows that exercise alone.
    expect(snap.lessons[1]!.steps).toEqual([
      { id: 'exercise:secret-layer', title: { en: 'A secret in a layer', ko: '레이어에 남은 비밀' } },
    ]);
    const ana = snap.learners[0]!;
    expect(ana.cells.Docker_Intro!['exercise:revive-web']).toEqual({ state: 'done', status: 'passed', seconds: 95 });
    expect(ana.cells.Docker_Layers!['exercise:secret-layer']!.state).toBe('pending');

    const results = await workshops.results(kim, w.id);
    expect(results.learners[0]!.steps.find((s) => s.stepId === 'exercise:revive-web')).toMatchObject({
      status: 'passed',
      seconds: 95,
    });
    const csv = (await workshops.resultsCsv(kim, w.id)).split('\r\n');
    expect(csv).toContain(
      'Ana,Docker_Intro,exercise:revive-web,passed,2026-03-02T09:00:00.000Z,2026-03-02T09:01:35.000Z,95',
    );
    expect(csv.some((line) => line.startsWith('Ana,Docker_Layers,exercise:secret-layer,pending,'))).toBe(true);
  });

  it('refuses an exercise no lesson has, in one line', async () => {
    const workshops = new Workshops(db, noSandboxes, () => lessons);
    await expect(
      workshops.create(kim, { ...input, exercises: [{ lessonId: 'Docker_Intro', exerciseId: 'nope' }] }),
    ).rejects.toThrow('there is no exercise nope in lesson Docker_Intro');
  });
});
