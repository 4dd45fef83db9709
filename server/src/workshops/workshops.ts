// Workshops: an instructor's class. Create one with lessons and seats, open the doors (sandboxes for the
// seats are warmed), learners join with a short code and a display name, the instructor messages,
// resets, extends and ends it. Every call is checked against the workshop's owner.
import { randomBytes, randomInt } from 'node:crypto';
import type { Lesson } from '@dockside/lessons';
import type { ResultStep, WorkshopResults, WorkshopView } from '@dockside/protocol';
import type { Db } from '../db/client';
import type { Engine } from '../engine/engine';
import { DocksideError } from '../errors';
import type { InstructorView } from './accounts';
import { planLessons, readPlan, unknownInPlan, writePlan, type ExerciseRef } from './plan';

export class WorkshopError extends DocksideError {}

export type WorkshopInput = {
  title: string;
  lessonIds: string[];
  /** Exercises from any lesson, shown after their lesson's steps. */
  exercises: ExerciseRef[];
  seatLimit: number;
  durationMinutes: number;
  startsAt?: string;
  locale: 'en' | 'ko';
  keepSandboxes: boolean;
};

// No 0/O, 1/I/L: codes are read off a projector. 31^8 ≈ 8.5e11 codes, and joins are rate-limited.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const newJoinCode = () => Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
/** What a person types (`abcd-2345`, spaces) as the stored code. */
export const normaliseCode = (code: string) => code.toUpperCase().replace(/[^A-Z0-9]/g, '');

type Row = Awaited<ReturnType<Db['workshop']['findUniqueOrThrow']>>;

export type WorkshopEvent =
  /** Something for a learner's lesson page (a toast). */
  | { type: 'notify'; learnerId: string; message: string; from: string }
  /** The workshop changed (a join, doors opened, time extended, ended). */
  | { type: 'changed'; workshopId: string };

export class Workshops {
  private listeners = new Set<(e: WorkshopEvent) => void>();

  constructor(
    private readonly db: Db,
    private readonly engine: Engine,
    private readonly lessons: () => Lesson[],
    private readonly now: () => number = Date.now,
  ) {}

  subscribe(listener: (e: WorkshopEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: WorkshopEvent): void {
    for (const l of this.listeners) l(e);
  }

  private notify(learnerId: string, message: string, from: string): void {
    this.emit({ type: 'notify', learnerId, message, from });
  }

  view(row: Row, learners: number): WorkshopView {
    return {
      id: row.id,
      title: row.title,
      joinCode: row.joinCode,
      ...readPlan(row.lessonIds),
      seatLimit: row.seatLimit,
      locale: row.locale,
      keepSandboxes: row.keepSandboxes,
      state: row.state as WorkshopView['state'],
      durationMinutes: row.durationMinutes,
      startsAt: row.startsAt?.toISOString() ?? null,
      endsAt: row.endsAt?.toISOString() ?? null,
      openedAt: row.openedAt?.toISOString() ?? null,
      endedAt: row.endedAt?.toISOString() ?? null,
      learners,
    };
  }

  async create(owner: InstructorView, input: WorkshopInput): Promise<WorkshopView> {
    const unknown = unknownInPlan(input, this.lessons());
    if (unknown) throw new WorkshopError(400, 'unknown_lesson', unknown);
    const startsAt = input.startsAt ? new Date(input.startsAt) : null;
    for (let attempt = 0; ; attempt++) {
      try {
        const row = await this.db.workshop.create({
          data: {
            id: randomBytes(9).toString('base64url'),
            title: input.title,
            joinCode: newJoinCode(),
            lessonIds: writePlan(input),
            seatLimit: input.seatLimit,
            locale: input.locale,
            keepSandboxes: input.keepSandboxes,
            startsAt,
            // The end is fixed when the doors open, unless a start time was given.
            endsAt: startsAt ? new Date(startsAt.getTime() + input.durationMinutes * 60_000) : null,
            durationMinutes: input.durationMinutes,
            state: 'draft',
            ownerId: owner.id,
            createdAt: new Date(this.now()),
          },
        });
        return this.view(row, 0);
      } catch (err) {
        if (attempt < 3 && /Unique constraint/i.test(String(err))) continue; // join code taken: draw again
        throw err;
      }
    }
  }

  async listFor(owner: InstructorView): Promise<WorkshopView[]> {
    const rows = await this.db.workshop.findMany({
      where: { ownerId: owner.id },
      orderBy: { createdAt: 'desc' },
      include: { _count: { select: { enrollments: true } } },
    });
    return rows.map((r) => this.view(r, r._count.enrollments));
  }

  /** The workshop, if this instructor owns it. */
  async owned(owner: InstructorView, id: string): Promise<Row> {
    const row = await this.db.workshop.findUnique({ where: { id } });
    if (!row) throw new WorkshopError(404, 'not_found', 'there is no such workshop');
    if (row.ownerId !== owner.id)
      throw new WorkshopError(403, 'not_yours', 'this workshop belongs to another instructor');
    return row;
  }

  async get(owner: InstructorView, id: string): Promise<WorkshopView> {
    const row = await this.owned(owner, id);
    return this.view(row, await this.db.enrollment.count({ where: { workshopId: id } }));
  }

  /** Opens the doors: learners may join, and sandboxes for the seats are warmed now. */
  async open(owner: InstructorView, id: string): Promise<WorkshopView> {
    const row = await this.owned(owner, id);
    if (row.state === 'ended') throw new WorkshopError(409, 'ended', 'this workshop has ended');
    const minutes = row.durationMinutes;
    const now = this.now();
    const updated = await this.db.workshop.update({
      where: { id },
      data: {
        state: 'open',
        openedAt: row.openedAt ?? new Date(now),
        endsAt: row.endsAt ?? new Date(now + minutes * 60_000),
      },
    });
    const joined = await this.db.enrollment.count({ where: { workshopId: id } });
    this.engine.prewarm(Math.max(0, row.seatLimit - joined));
    this.emit({ type: 'changed', workshopId: id });
    return this.view(updated, joined);
  }

  async extend(owner: InstructorView, id: string, minutes: number): Promise<WorkshopView> {
    const row = await this.owned(owner, id);
    if (row.state === 'ended') throw new WorkshopError(409, 'ended', 'this workshop has ended');
    const base = row.endsAt?.getTime() ?? this.now();
    const updated = await this.db.workshop.update({
      where: { id },
      data: { endsAt: new Date(base + minutes * 60_000) },
    });
    for (const learnerId of await this.learnerIds(id)) this.engine.extend(learnerId, minutes * 60_000);
    this.emit({ type: 'changed', workshopId: id });
    return this.get(owner, updated.id);
  }

  /** Ends the workshop: sandboxes are destroyed (unless kept), progress stays, results stay viewable. */
  async end(owner: InstructorView, id: string): Promise<WorkshopView> {
    const row = await this.owned(owner, id);
    return this.finish(row);
  }

  /**
   * Ends it once: every replica looks for workshops whose time is up, and only the one whose update finds
   * it not ended yet tells the learners and ends their sandboxes.
   */
  private async finish(row: Row): Promise<WorkshopView> {
    const { count } = await this.db.workshop.updateMany({
      where: { id: row.id, state: { not: 'ended' } },
      data: { state: 'ended', endedAt: row.endedAt ?? new Date(this.now()) },
    });
    const updated = await this.db.workshop.findUniqueOrThrow({ where: { id: row.id } });
    const learners = await this.learnerIds(row.id);
    if (count === 0) return this.view(updated, learners.length);
    for (const learnerId of learners) {
      this.notify(
        learnerId,
        'The workshop has ended. Your progress is saved. / 워크숍이 끝났습니다. 진행 상황은 저장되었습니다.',
        row.title,
      );
      if (!row.keepSandboxes) await this.engine.release(learnerId);
    }
    this.emit({ type: 'changed', workshopId: row.id });
    return this.view(updated, learners.length);
  }

  /** Ends open workshops whose time is up (called every half minute, by every replica). */
  async endExpired(): Promise<void> {
    const due = await this.db.workshop.findMany({ where: { state: 'open', endsAt: { lt: new Date(this.now()) } } });
    for (const row of due) await this.finish(row);
  }

  async message(owner: InstructorView, id: string, text: string, learnerId?: string): Promise<{ sent: number }> {
    const row = await this.owned(owner, id);
    const learners = await this.learnerIds(id);
    const to = learnerId ? learners.filter((l) => l === learnerId) : learners;
    if (learnerId && to.length === 0)
      throw new WorkshopError(404, 'not_enrolled', 'this learner is not in the workshop');
    for (const l of to) this.notify(l, text, owner.name || owner.email || row.title);
    return { sent: to.length };
  }

  async resetLearner(owner: InstructorView, id: string, learnerId: string): Promise<{ sandboxId: string | null }> {
    await this.enrolled(owner, id, learnerId);
    // The fresh sandbox is placed as any start is (in the learner's open workshop, within its seats), so a
    // workshop that is not open has none to give.
    const row = await this.owned(owner, id);
    if (row.state !== 'open')
      throw new WorkshopError(409, 'not_open', 'this workshop is not open; open its doors to reset sandboxes');
    const r = await this.engine.reset(learnerId, null);
    return { sandboxId: 'sandbox' in r ? r.sandbox.id : null };
  }

  /** A learner of this workshop (throws for anyone else). */
  async enrolled(owner: InstructorView, id: string, learnerId: string): Promise<void> {
    await this.owned(owner, id);
    const e = await this.db.enrollment.findUnique({ where: { workshopId_learnerId: { workshopId: id, learnerId } } });
    if (!e) throw new WorkshopError(404, 'not_enrolled', 'this learner is not in the workshop');
  }

  /** What the join page shows before a learner joins. */
  async preview(code: string): Promise<{ title: string; state: string; locale: string }> {
    const row = await this.db.workshop.findUnique({ where: { joinCode: normaliseCode(code) } });
    if (!row) throw new WorkshopError(404, 'bad_code', 'no workshop has this code; check it on the projector');
    return { title: row.title, state: row.state, locale: row.locale };
  }

  async join(
    code: string,
    displayName: string,
    learnerId: string,
  ): Promise<{ workshopId: string; lessonId: string; locale: string }> {
    const row = await this.db.workshop.findUnique({ where: { joinCode: normaliseCode(code) } });
    if (!row) throw new WorkshopError(404, 'bad_code', 'no workshop has this code; check it on the projector');
    if (row.state === 'draft')
      throw new WorkshopError(409, 'not_open', 'the workshop has not opened its doors yet; try again in a moment');
    if (row.state === 'ended') throw new WorkshopError(409, 'ended', 'this workshop has ended');
    const already = await this.db.enrollment.findUnique({
      where: { workshopId_learnerId: { workshopId: row.id, learnerId } },
    });
    if (!already && (await this.db.enrollment.count({ where: { workshopId: row.id } })) >= row.seatLimit)
      throw new WorkshopError(409, 'full', `the workshop is full (${row.seatLimit} seats); ask the instructor`);
    if (!already) {
      // A new learner's row is written here, with a right code and a free seat: the seats limit them.
      await this.engine.admit(learnerId, null, true);
      const mine = await this.db.enrollment.create({
        data: {
          id: randomBytes(9).toString('base64url'),
          workshopId: row.id,
          learnerId,
          joinedAt: new Date(this.now()),
        },
      });
      // Two people may take the last seat at once: the first to have joined keeps it.
      const seated = await this.db.enrollment.findMany({
        where: { workshopId: row.id },
        orderBy: [{ joinedAt: 'asc' }, { id: 'asc' }],
        take: row.seatLimit,
        select: { id: true },
      });
      if (!seated.some((e) => e.id === mine.id)) {
        await this.db.enrollment.delete({ where: { id: mine.id } });
        throw new WorkshopError(409, 'full', `the workshop is full (${row.seatLimit} seats); ask the instructor`);
      }
    }
    await this.db.learner.update({ where: { id: learnerId }, data: { displayName } });
    this.emit({ type: 'changed', workshopId: row.id });
    return { workshopId: row.id, lessonId: readPlan(row.lessonIds).lessonIds[0]!, locale: row.locale };
  }

  /** The workshops a learner is in (any state). */
  async workshopsOf(learnerId: string): Promise<string[]> {
    const rows = await this.db.enrollment.findMany({ where: { learnerId }, select: { workshopId: true } });
    return rows.map((r) => r.workshopId);
  }

  async learnerIds(workshopId: string): Promise<string[]> {
    const rows = await this.db.enrollment.findMany({ where: { workshopId }, select: { learnerId: true } });
    return rows.map((r) => r.learnerId);
  }

  /** Per learner and step: status, when it started and finished, and how long it took. */
  async results(owner: InstructorView, id: string): Promise<WorkshopResults> {
    const row = await this.owned(owner, id);
    const lessons = planLessons(readPlan(row.lessonIds), this.lessons());
    const lessonIds = lessons.map((l) => l.id);
    const enrollments = await this.db.enrollment.findMany({
      where: { workshopId: id },
      include: { learner: { include: { progress: { where: { lessonId: { in: lessonIds } } } } } },
      orderBy: { joinedAt: 'asc' },
    });
    return {
      workshop: this.view(row, enrollments.length),
      lessons: lessons.map((l) => ({
        id: l.id,
        title: l.title,
        steps: l.items.map((st) => ({ id: st.id, title: st.title })),
      })),
      learners: enrollments.map((e) => {
        const steps = lessons.flatMap((lesson) =>
          lesson.items.map((step): ResultStep => {
            const p = e.learner.progress.find((x) => x.lessonId === lesson.id && x.stepId === step.id);
            return {
              lessonId: lesson.id,
              stepId: step.id,
              status: p?.status ?? 'pending',
              startedAt: p?.startedAt.toISOString() ?? null,
              completedAt: p?.completedAt?.toISOString() ?? null,
              seconds: p?.completedAt ? Math.round((p.completedAt.getTime() - p.startedAt.getTime()) / 1000) : null,
            };
          }),
        );
        const finished = steps.filter((st) => st.seconds !== null);
        return {
          learnerId: e.learnerId,
          displayName: e.learner.displayName ?? e.learnerId,
          joinedAt: e.joinedAt.toISOString(),
          done: finished.length,
          seconds: finished.reduce((sum, st) => sum + st.seconds!, 0),
          steps,
        };
      }),
    };
  }

  /** The same, one row per learner and step, as CSV (a spreadsheet opens it). */
  async resultsCsv(owner: InstructorView, id: string): Promise<string> {
    const { learners } = await this.results(owner, id);
    const lines = [['learner', 'lesson', 'step', 'status', 'started_at', 'completed_at', 'seconds'].join(',')];
    for (const l of learners)
      for (const st of l.steps)
        lines.push(
          [l.displayName, st.lessonId, st.stepId, st.status, st.startedAt ?? '', st.completedAt ?? '', st.seconds ?? '']
            .map(csvCell)
            .join(','),
        );
    return lines.join('\r\n') + '\r\n';
  }
}

/**
 * A CSV cell, quoted when needed, and never a formula a spreadsheet would run: a cell that starts with
 * = + - @, a tab or a CR gets a leading '. A `;` or a tab is quoted too: a spreadsheet set to split on
 * them (Excel in many European locales uses `;`) would otherwise start a new cell there, after the '.
 */
export function csvCell(v: unknown): string {
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",;\t\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
