// The server engine: sandbox manager, terminals, files, checks and progress, wired together once.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Lesson } from '@dockside/lessons';
import type { ChecksResult, SandboxView } from '@dockside/protocol';
import type { Db } from '../db/client';
import { LayerAnalyzer, LayerCache } from '../layers/analyzer';
import { CheckRunner, type StepCheck } from './checkRunner';
import { Admission, DEFAULT_ADMISSION, type AdmissionOptions, type Client } from './admission';
import type { CheckSpec } from './checks';
import type { Clock } from './clock';
import { WorkspaceFiles } from './files';
import { SandboxManager, type EnsureResult, type ManagerEvent, type ManagerOptions, type Placement } from './manager';
import { ProgressStore } from './progress';
import type { CommandEvent } from './shellIntegration';
import type { Runtime } from './runtime';
import { TerminalHub } from './terminals';

export type EngineListener = {
  manager: (learnerId: string, event: ManagerEvent) => void;
  checks: (learnerId: string, result: ChecksResult) => void;
  /** The sandbox's engine reported a change (build, tag, removal, container start or stop). */
  engineChanged?: (sandboxId: string) => void;
  /** A command finished in one of the sandbox's terminals. */
  commandRan?: (sandboxId: string, e: CommandEvent) => void;
};

/** The checks a lesson step declares (validated when the lesson was loaded). */
export function stepChecksFrom(lessons: () => Lesson[]) {
  return (lessonId: string, stepId: string): StepCheck[] | undefined => {
    const step = lessons()
      .find((l) => l.id === lessonId)
      ?.steps.find((s) => s.id === stepId);
    return step?.checks.map(({ id, title: _title, ...spec }) => ({ id, spec: spec as CheckSpec }));
  };
}

export type EngineOptions = Omit<ManagerOptions, 'seatLimit' | 'sandboxesPerAddress'> & {
  admission?: AdmissionOptions;
  /** Derives each terminal's shell-integration nonce; the same across restarts (the session secret). */
  terminalSecret: string;
};

export class Engine {
  readonly manager: SandboxManager;
  readonly admission: Admission;
  readonly terminals: TerminalHub;
  readonly files: WorkspaceFiles;
  readonly progress: ProgressStore;
  readonly checks: CheckRunner;
  readonly layers: LayerAnalyzer;
  private listeners: EngineListener[] = [];

  constructor(
    readonly db: Db,
    readonly runtime: Runtime,
    clock: Clock,
    { admission = DEFAULT_ADMISSION, terminalSecret, ...options }: EngineOptions,
    readonly lessons: () => Lesson[],
    layerCacheDir: string,
  ) {
    this.admission = new Admission(db, admission, () => clock.now());
    this.manager = new SandboxManager(db, runtime, clock, {
      ...options,
      sandboxesPerAddress: admission.sandboxesPerAddress,
      seatLimit: async (workshopId) => (await db.workshop.findUnique({ where: { id: workshopId } }))?.seatLimit ?? null,
    });
    this.progress = new ProgressStore(db);
    this.checks = new CheckRunner(
      runtime,
      this.progress,
      stepChecksFrom(lessons),
      (learnerId, result) => this.listeners.forEach((l) => l.checks(learnerId, result)),
      (sandboxId) => this.listeners.forEach((l) => l.engineChanged?.(sandboxId)),
    );
    this.terminals = new TerminalHub(
      runtime,
      (sandboxId, e) => {
        this.checks.recordCommand(sandboxId, e);
        this.listeners.forEach((l) => l.commandRan?.(sandboxId, e));
      },
      terminalSecret,
    );
    this.files = new WorkspaceFiles(runtime);
    this.layers = new LayerAnalyzer(new LayerCache(layerCacheDir));
    this.manager.subscribe((learnerId, event) => {
      if (event.type === 'ended') {
        this.terminals.closeSandbox(event.sandboxId);
        this.checks.forgetSandbox(event.sandboxId);
      }
      this.listeners.forEach((l) => l.manager(learnerId, event));
    });
  }

  listen(listener: EngineListener): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    const { adopted, orphans, lost, abandoned } = await this.manager.start();
    const terminals = (await Promise.all(adopted.map((id) => this.terminals.adopt(id)))).flat();
    if (adopted.length + orphans.length + lost.length + abandoned.length)
      console.log(
        `dockside: sandboxes re-adopted ${adopted.length} (terminals ${terminals.length}), orphans destroyed ${orphans.length}, lost ${lost.length}, abandoned by other servers destroyed ${abandoned.length}`,
      );
  }

  /**
   * Where a learner's sandbox belongs, the same for every way one starts (first start, reconnect, reset by
   * the learner or their instructor, the queue): in their latest open workshop, counted against its
   * seats, else self-paced, counted against their address. `client` is the learner asking; null is their
   * instructor, whose resets no budget counts.
   */
  private async placement(learnerId: string, client: Client | null): Promise<Placement> {
    const enrollment = await this.db.enrollment.findFirst({
      where: { learnerId, workshop: { state: 'open' } },
      orderBy: { joinedAt: 'desc' },
    });
    const workshopId = enrollment?.workshopId ?? null;
    return {
      workshopId,
      address: client?.address ?? null,
      charge: this.admission.startCharge(learnerId, workshopId, client),
    };
  }

  /** The learner's sandbox (their first real action writes their row); AdmissionError past a limit. */
  async ensureSandbox(learnerId: string, client: Client | null): Promise<EnsureResult> {
    await this.admission.learner(learnerId, client);
    const result = await this.manager.ensure(learnerId, await this.placement(learnerId, client));
    return 'sandbox' in result ? { sandbox: await this.withPorts(result.sandbox) } : result;
  }

  /** Destroys the learner's sandbox and starts a fresh one, placed as any start is. */
  async resetSandbox(learnerId: string, client: Client | null): Promise<EnsureResult> {
    await this.admission.learner(learnerId, client);
    return this.manager.reset(learnerId, await this.placement(learnerId, client));
  }

  /** A sandbox view with the ports its containers publish right now. */
  async withPorts(view: SandboxView): Promise<SandboxView> {
    try {
      const containers = await this.checks.docker(view.id).listContainers();
      const ports = containers.flatMap((c) =>
        c.Ports.filter((p) => p.PublicPort && p.Type === 'tcp').map((p) => ({
          port: p.PublicPort,
          container: c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12),
        })),
      );
      const unique = [...new Map(ports.map((p) => [p.port, p])).values()];
      return this.manager.viewById(view.id, unique) ?? view;
    } catch {
      return view;
    }
  }

  /** Copies a lesson's starting files into /workspace; files the learner already has are kept. */
  async seedLesson(sandboxId: string, lessonId: string, lessonsDir: string): Promise<void> {
    const lesson = this.lessons().find((l) => l.id === lessonId);
    if (!lesson) return;
    for (const name of lesson.seed) {
      const content = readFileSync(path.join(lessonsDir, lesson.id, 'workspace', name));
      // Only where the file is missing (a conflict means the learner has one); a learner who removed
      // /workspace simply gets no starting files.
      await this.runtime.file(sandboxId, 'write', [`/workspace/${name}`, '--if-match', 'missing'], { stdin: content });
    }
  }

  async shutdown(): Promise<void> {
    this.checks.close();
    // Terminals run on in their sandboxes: kept ones for the next server, the others end with them.
    this.terminals.releaseAll();
    await this.manager.shutdown();
  }
}
