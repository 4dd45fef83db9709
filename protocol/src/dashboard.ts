// The instructor's live view of a room (`dashboard:update`): learners × steps, failing checks, engines.
import type { StepStatus } from './checks';
import type { SandboxPhase } from './sandbox';

export type CellState = 'done' | 'working' | 'stuck' | 'pending';

export type DashboardLearner = {
  learnerId: string;
  displayName: string;
  joinedAt: string;
  sandbox: { id: string; phase: SandboxPhase; expiresAt: string } | null;
  /** lessonId → stepId → cell */
  cells: Record<string, Record<string, { state: CellState; status: StepStatus | 'pending'; seconds: number | null }>>;
  current: { lessonId: string; stepId: string; since: string; seconds: number } | null;
  failing: { checkId: string; title: { en: string; ko: string }; hint?: { en: string; ko: string } }[];
  engine: { images: number; containers: number; running: number } | null;
  lastCommand: { commandLine: string; exitCode: number; at: string } | null;
  done: number;
};

export type DashboardSnapshot = {
  workshopId: string;
  at: string;
  lessons: {
    id: string;
    title: { en: string; ko: string };
    /** The lesson's steps, then the workshop's exercises of it (id `exercise:<id>`). */
    steps: { id: string; title: { en: string; ko: string } }[];
  }[];
  learners: DashboardLearner[];
  /** The room's median seconds per finished step; a learner far beyond it on one step is "stuck". */
  medianStepSeconds: number | null;
};
