// What every REST route is given (api.ts passes it to each handler), apart from the route table itself.
import type { Lesson } from '@dockside/lessons';
import type { Db } from '../db/client';
import type { Engine } from '../engine/engine';
import type { ProgressStore } from '../engine/progress';
import type { LayerAnalyzer } from '../layers/analyzer';
import type { InstructorAccounts } from '../workshops/accounts';
import type { DashboardData } from '../workshops/dashboard';
import type { SharedRateLimiter } from '../workshops/rateLimit';
import type { Workshops } from '../workshops/workshops';
import type { Origins } from './origins';
import type { PreviewAccess } from './previewAccess';
import type { Sessions } from './session';

export type ApiDeps = {
  db: Db;
  sessions: Sessions;
  engine: Engine;
  progress: ProgressStore;
  /** The Layers view's analyses (layerRoutes.ts), of the images in a sandbox's engine. */
  layers: LayerAnalyzer;
  lessons: () => Lesson[];
  health: () => Promise<Health>;
  instructors: InstructorAccounts;
  workshops: Workshops;
  dashboard: DashboardData;
  limits: { signIn: SharedRateLimiter; join: SharedRateLimiter };
  previews: { origins: Origins; access: PreviewAccess };
};

export type Health = {
  ok: boolean;
  database: { ok: boolean; provider: string; error?: string };
  runtime: { ok: boolean; detail: string };
  registry: { ok: boolean; detail: string };
};
