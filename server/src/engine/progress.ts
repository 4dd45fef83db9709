// Lesson progress: which steps a learner has passed, skipped or solved, written as each one changes.
import { randomBytes } from 'node:crypto';
import { isStepDone, type StepStatus } from '@dockside/protocol';
import type { Db } from '../db/client';

export type StepProgress = { status: StepStatus; startedAt: string; completedAt: string | null };

export class ProgressStore {
  constructor(private readonly db: Db) {}

  async forLesson(learnerId: string, lessonId: string): Promise<Record<string, StepProgress>> {
    const rows = await this.db.lessonProgress.findMany({ where: { learnerId, lessonId } });
    return Object.fromEntries(
      rows.map((r) => [
        r.stepId,
        {
          status: r.status as StepStatus,
          startedAt: r.startedAt.toISOString(),
          completedAt: r.completedAt?.toISOString() ?? null,
        },
      ]),
    );
  }

  async forLearner(
    learnerId: string,
  ): Promise<{ lessonId: string; stepId: string; status: StepStatus; updatedAt: Date }[]> {
    const rows = await this.db.lessonProgress.findMany({ where: { learnerId }, orderBy: { updatedAt: 'desc' } });
    return rows.map((r) => ({
      lessonId: r.lessonId,
      stepId: r.stepId,
      status: r.status as StepStatus,
      updatedAt: r.updatedAt,
    }));
  }

  /** Records a step's status; a finished step never goes back to working. Returns the stored status. */
  async set(learnerId: string, lessonId: string, stepId: string, status: StepStatus): Promise<StepStatus> {
    const key = { learnerId_lessonId_stepId: { learnerId, lessonId, stepId } };
    const existing = await this.db.lessonProgress.findUnique({ where: key });
    if (existing && isStepDone(existing.status) && !isStepDone(status)) return existing.status as StepStatus;
    if (existing?.status === status) return status;
    const completedAt = isStepDone(status) ? new Date() : null;
    await this.db.lessonProgress.upsert({
      where: key,
      create: { id: randomBytes(12).toString('base64url'), learnerId, lessonId, stepId, status, completedAt },
      update: { status, completedAt },
    });
    return status;
  }
}
