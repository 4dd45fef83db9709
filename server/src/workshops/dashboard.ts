// The instructor's live view of a room: learners × steps (done / working / stuck), failing checks with
// their hints, and what each learner's engine holds. Snapshots are rebuilt from the database and the
// engine, and pushed to the watching instructors when anything of the room's learners changes.
import type { Lesson } from '@dockside/lessons';
import {
  isStepDone,
  median,
  type CellState,
  type ChecksResult,
  type DashboardLearner,
  type DashboardSnapshot,
  type StepStatus,
} from '@dockside/protocol';
import type { Db } from '../db/client';
import type { Engine } from '../engine/engine';
import type { CommandEvent } from '../engine/shellIntegration';
import { planLessons, readPlan } from './plan';

// For server/bench, which still imports it from here.
export type { DashboardSnapshot };

const STUCK_FACTOR = 2;
const STUCK_MIN_SECONDS = 120;
const ENGINE_TTL_MS = 2000;

export class DashboardData {
  private lastChecks = new Map<string, ChecksResult>(); // learnerId → latest results
  private lastCommands = new Map<string, CommandEvent & { at: number }>(); // sandboxId → latest
  private engineCounts = new Map<string, { at: number; value: DashboardLearner['engine']; stale: boolean }>();
  private refreshing = new Map<string, Promise<DashboardLearner['engine']>>();
  private refreshedListeners = new Set<(sandboxId: string) => void>();

  constructor(
    private readonly db: Db,
    private readonly engine: Engine,
    private readonly lessons: () => Lesson[],
    private readonly now: () => number = Date.now,
  ) {}

  /** Told when a learner's engine counts, refreshed behind a snapshot, turned out different. */
  onEngineRefreshed(listener: (sandboxId: string) => void): () => void {
    this.refreshedListeners.add(listener);
    return () => this.refreshedListeners.delete(listener);
  }

  recordChecks(learnerId: string, r: ChecksResult): void {
    this.lastChecks.set(learnerId, r);
  }

  recordCommand(sandboxId: string, e: CommandEvent): void {
    this.lastCommands.set(sandboxId, { ...e, at: this.now() });
  }

  /** The engine changed: its counts are asked again, but a snapshot does not wait for them. */
  forgetEngine(sandboxId: string): void {
    const cached = this.engineCounts.get(sandboxId);
    if (cached) cached.stale = true;
  }

  /** The counts as last known (refreshed in the background when old); only a first look waits. */
  private async engineOf(sandboxId: string): Promise<DashboardLearner['engine']> {
    const cached = this.engineCounts.get(sandboxId);
    if (cached && !cached.stale && this.now() - cached.at < ENGINE_TTL_MS) return cached.value;
    const fresh = this.refresh(sandboxId);
    return cached ? cached.value : fresh;
  }

  private refresh(sandboxId: string): Promise<DashboardLearner['engine']> {
    const running = this.refreshing.get(sandboxId);
    if (running) return running;
    const work = (async () => {
      let value: DashboardLearner['engine'] = null;
      try {
        const docker = this.engine.docker(sandboxId);
        const [images, containers] = await Promise.all([docker.listImages(), docker.listContainers({ all: true })]);
        value = {
          images: images.length,
          containers: containers.length,
          running: containers.filter((c) => c.State === 'running').length,
        };
      } catch {
        value = null;
      }
      const before = this.engineCounts.get(sandboxId);
      if (this.engineCounts.size > 5000) this.engineCounts.clear(); // sandboxes long gone
      this.engineCounts.set(sandboxId, { at: this.now(), value, stale: false });
      if (before && JSON.stringify(before.value) !== JSON.stringify(value))
        for (const l of this.refreshedListeners) l(sandboxId);
      return value;
    })().finally(() => this.refreshing.delete(sandboxId));
    this.refreshing.set(sandboxId, work);
    return work;
  }

  async snapshot(workshopId: string): Promise<DashboardSnapshot> {
    const workshop = await this.db.workshop.findUniqueOrThrow({ where: { id: workshopId } });
    const lessons = planLessons(readPlan(workshop.lessonIds), this.lessons());
    const lessonIds = lessons.map((l) => l.id);
    const enrollments = await this.db.enrollment.findMany({
      where: { workshopId },
      include: { learner: { include: { progress: { where: { lessonId: { in: lessonIds } } } } } },
      orderBy: { joinedAt: 'asc' },
    });
    const now = this.now();

    const finished = enrollments.flatMap((e) =>
      e.learner.progress
        .filter((p) => isStepDone(p.status) && p.completedAt)
        .map((p) => (p.completedAt!.getTime() - p.startedAt.getTime()) / 1000),
    );
    const medianStepSeconds = median(finished) ?? null;
    const stuckAfter = Math.max(STUCK_MIN_SECONDS, (medianStepSeconds ?? STUCK_MIN_SECONDS) * STUCK_FACTOR);

    const learners = await Promise.all(
      enrollments.map(async (e): Promise<DashboardLearner> => {
        // Also a sandbox another replica handed out (asked of the database once, then known here).
        const view = await this.engine.sandboxOfAnyReplica(e.learnerId);
        const progress = new Map(e.learner.progress.map((p) => [`${p.lessonId}/${p.stepId}`, p]));
        // The current step: the first not finished, in the workshop's order.
        let current: DashboardLearner['current'] = null;
        let previousEnd = e.joinedAt.getTime();
        const cells: DashboardLearner['cells'] = {};
        let done = 0;
        for (const lesson of lessons) {
          cells[lesson.id] = {};
          for (const step of lesson.items) {
            const p = progress.get(`${lesson.id}/${step.id}`);
            const status = (p?.status ?? 'pending') as StepStatus | 'pending';
            let state: CellState = 'pending';
            let seconds: number | null = null;
            if (p && isStepDone(p.status)) {
              state = 'done';
              done++;
              seconds = p.completedAt ? Math.round((p.completedAt.getTime() - p.startedAt.getTime()) / 1000) : null;
              previousEnd = Math.max(previousEnd, p.completedAt?.getTime() ?? previousEnd);
            } else if (!current) {
              const since = p?.startedAt.getTime() ?? previousEnd;
              const s = Math.max(0, Math.round((now - since) / 1000));
              current = { lessonId: lesson.id, stepId: step.id, since: new Date(since).toISOString(), seconds: s };
              state = s > stuckAfter ? 'stuck' : 'working';
              seconds = s;
            }
            cells[lesson.id]![step.id] = { state, status, seconds };
          }
        }
        const checks = this.lastChecks.get(e.learnerId);
        const failing =
          checks && current && checks.lessonId === current.lessonId && checks.stepId === current.stepId
            ? checks.results
                .filter((r) => r.status === 'failed')
                .map((r) => {
                  const step = lessons.find((l) => l.id === checks.lessonId)?.items.find((s) => s.id === checks.stepId);
                  const title = step?.checks.find((c) => c.id === r.id)?.title ?? { en: r.id, ko: r.id };
                  return { checkId: r.id, title, ...(r.hint ? { hint: r.hint } : {}) };
                })
            : [];
        const cmd = view ? this.lastCommands.get(view.id) : undefined;
        return {
          learnerId: e.learnerId,
          displayName: e.learner.displayName ?? 'Learner',
          joinedAt: e.joinedAt.toISOString(),
          sandbox: view ? { id: view.id, phase: view.phase, expiresAt: view.expiresAt } : null,
          cells,
          current,
          failing,
          engine: view ? await this.engineOf(view.id) : null,
          lastCommand: cmd
            ? { commandLine: cmd.commandLine, exitCode: cmd.exitCode, at: new Date(cmd.at).toISOString() }
            : null,
          done,
        };
      }),
    );
    return {
      workshopId,
      at: new Date(now).toISOString(),
      lessons: lessons.map((l) => ({
        id: l.id,
        title: l.title,
        steps: l.items.map((s) => ({ id: s.id, title: s.title })),
      })),
      learners,
      medianStepSeconds,
    };
  }
}
