// The server engine: learners' sandboxes, their terminals, files and checks, behind one front door. Every
// caller outside engine/ goes through the methods here: authorise a sandbox, start, reset or end one,
// open and reach terminals, read files, focus checks, and hear what happens by `subscribe`. The seat
// policy (which workshop a start counts against) is given by workshops/, which this never reads.
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { Lesson } from '@dockside/lessons';
import { exerciseOfStepId, type ChecksResult, type ExerciseProgress, type SandboxView } from '@dockside/protocol';
import type { Db } from '../db/client';
import type { LayerAnalyzer } from '../layers/analyzer';
import { DocksideError } from '../errors';
import { CheckRunner, type StepCheck } from './checkRunner';
import { Admission, DEFAULT_ADMISSION, type AdmissionOptions, type Client } from './admission';
import type { CheckSpec } from './checks';
import type { Clock } from './clock';
import { DockerClients } from './dockerClients';
import { ExercisePrep } from './exercisePrep';
import { WorkspaceFiles } from './files';
import { SandboxManager, type EnsureResult, type ManagerEvent, type ManagerOptions, type Placement } from './manager';
import type { ProgressStore } from './progress';
import type { CommandEvent } from './shellIntegration';
import type { Runtime } from './runtime';
import { TerminalError, TerminalHub, type Terminal, type Viewer } from './terminals';

/** What the engine tells its subscribers, each event once, in the order it happened. */
export type EngineEvent =
  /** Something of a learner's sandbox: start progress, its state, the queue, a warning, its end, an error. */
  | { type: 'sandbox'; learnerId: string; event: ManagerEvent }
  /** The checks of the step a learner looks at ran. */
  | { type: 'checks'; learnerId: string; result: ChecksResult }
  /** The sandbox's engine reported a change (build, tag, removal, container start or stop). */
  | { type: 'engine'; sandboxId: string }
  /** A command finished in one of the sandbox's terminals. */
  | { type: 'command'; sandboxId: string; command: CommandEvent }
  /** How far the starting state of an exercise the learner opened is. */
  | { type: 'exercise'; learnerId: string; progress: ExerciseProgress };

export type EngineListener = (e: EngineEvent) => void;

/**
 * Which workshop a learner's start counts against, and its seats: the one seat policy every start goes
 * through (the first, a reconnect, a reset by the learner or their instructor, the queue). Implemented by
 * workshops/seats.ts.
 */
export type SeatPolicy = {
  /** The learner's latest open workshop, or null: self-paced. */
  workshopOf(learnerId: string): Promise<string | null>;
  /** Seats of a workshop, or null when it has no limit of its own. */
  seatLimit(workshopId: string): Promise<number | null>;
};

/** Why a learner may not use a sandbox: it is not running (404 not_found), or it is someone else's (403). */
export class SandboxAccessError extends DocksideError {
  constructor(
    readonly reason: 'not_running' | 'forbidden',
    message: string,
  ) {
    super(reason === 'not_running' ? 404 : 403, reason === 'not_running' ? 'not_found' : 'forbidden', message);
  }
}

/** The files of one sandbox's /workspace (files.ts), for a caller that has authorised it. */
export type SandboxFiles = {
  [K in keyof WorkspaceFiles]: WorkspaceFiles[K] extends (sandboxId: string, ...rest: infer A) => infer R
    ? (...rest: A) => R
    : never;
};

/** The checks a lesson step or exercise declares (validated when the lesson was loaded). */
export function stepChecksFrom(lessons: () => Lesson[]) {
  return (lessonId: string, stepId: string): StepCheck[] | undefined => {
    const lesson = lessons().find((l) => l.id === lessonId);
    const exerciseId = exerciseOfStepId(stepId);
    const step =
      exerciseId === undefined
        ? lesson?.steps.find((s) => s.id === stepId)
        : lesson?.exercises.find((e) => e.id === exerciseId);
    return step?.checks.map(({ id, title: _title, ...spec }) => ({ id, spec: spec as CheckSpec }));
  };
}

export type EngineDeps = {
  db: Db;
  runtime: Runtime;
  clock: Clock;
  seats: SeatPolicy;
  progress: ProgressStore;
  lessons: () => Lesson[];
  /** The layer index (shared with the Layers view), for checks that look into layers. */
  layers?: LayerAnalyzer;
};

export type EngineOptions = Omit<ManagerOptions, 'seatLimit' | 'sandboxesPerAddress'> & {
  admission?: AdmissionOptions;
  /** Derives each terminal's shell-integration nonce; the same across restarts (the session secret). */
  terminalSecret: string;
  /**
   * Attach to every adopted sandbox's terminals at start (one process: it serves them all). Replicas
   * attach to a terminal when a page or a mirror asks, so one whose page is elsewhere reports no commands.
   */
  terminalsAtStart?: boolean;
};

export class Engine {
  private readonly runtime: Runtime;
  private readonly seats: SeatPolicy;
  private readonly lessons: () => Lesson[];
  private readonly manager: SandboxManager;
  private readonly admission: Admission;
  private readonly terminals: TerminalHub;
  private readonly workspace: WorkspaceFiles;
  private readonly checks: CheckRunner;
  private readonly dockers: DockerClients;
  private readonly exercises: ExercisePrep;
  private readonly listeners = new Set<EngineListener>();
  private readonly terminalsAtStart: boolean;

  constructor(
    { db, runtime, clock, seats, progress, lessons, layers }: EngineDeps,
    { admission = DEFAULT_ADMISSION, terminalSecret, terminalsAtStart = true, ...options }: EngineOptions,
  ) {
    this.terminalsAtStart = terminalsAtStart;
    this.runtime = runtime;
    this.seats = seats;
    this.lessons = lessons;
    this.admission = new Admission(db, admission, () => clock.now());
    this.manager = new SandboxManager(db, runtime, clock, {
      ...options,
      // The shell's start-up file goes in with the sandbox, so its first terminal starts without waiting.
      prepareSandbox: async (rt, id) => {
        await options.prepareSandbox?.(rt, id);
        await this.terminals.prepare(id);
      },
      sandboxesPerAddress: admission.sandboxesPerAddress,
      seatLimit: (workshopId) => seats.seatLimit(workshopId),
    });
    this.dockers = new DockerClients(runtime);
    this.checks = new CheckRunner(
      runtime,
      progress,
      stepChecksFrom(lessons),
      (learnerId, result) => this.emit({ type: 'checks', learnerId, result }),
      (sandboxId) => this.emit({ type: 'engine', sandboxId }),
      this.dockers,
      layers,
    );
    this.terminals = new TerminalHub(
      runtime,
      (sandboxId, command) => {
        this.checks.recordCommand(sandboxId, command);
        this.emit({ type: 'command', sandboxId, command });
      },
      terminalSecret,
    );
    this.workspace = new WorkspaceFiles(runtime);
    this.exercises = new ExercisePrep(runtime, this.dockers, lessons);
    // A sandbox gone, ended here or on another replica: what this replica holds for it goes too.
    this.manager.onDropped((sandboxId) => {
      this.terminals.closeSandbox(sandboxId);
      this.checks.forgetSandbox(sandboxId);
      this.dockers.forget(sandboxId);
    });
    this.manager.subscribe((learnerId, event) => this.emit({ type: 'sandbox', learnerId, event }));
  }

  /** Every event from now on; returns the unsubscribe. */
  subscribe(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) l(e);
  }

  async start(): Promise<void> {
    const { adopted, orphans, lost, abandoned } = await this.manager.start();
    const terminals = this.terminalsAtStart
      ? (await Promise.all(adopted.map((id) => this.terminals.adopt(id)))).flat()
      : [];
    if (adopted.length + orphans.length + lost.length + abandoned.length)
      console.log(
        `dockside: sandboxes re-adopted ${adopted.length} (terminals ${terminals.length}), orphans destroyed ${orphans.length}, lost ${lost.length}, abandoned by other servers destroyed ${abandoned.length}`,
      );
  }

  async shutdown(): Promise<void> {
    this.checks.close();
    // Terminals run on in their sandboxes: kept ones for the next server, the others end with them.
    this.terminals.releaseAll();
    await this.manager.shutdown();
  }

  // --- who asks

  /** The client behind a request (its address, as admission.ts trusts proxies). */
  client(req: IncomingMessage): Client {
    return this.admission.client(req);
  }

  /**
   * A learner's first real action writes their row (AdmissionError past a limit); `joining` is a
   * workshop join, which the workshop's seats limit instead.
   */
  admit(learnerId: string, client: Client | null, joining = false): Promise<void> {
    return this.admission.learner(learnerId, client, joining);
  }

  // --- the learner's sandbox

  /**
   * The sandbox, if it is this learner's, marked active (it keeps it from the idle timeout); throws
   * SandboxAccessError otherwise.
   */
  authorize(learnerId: string, sandboxId: string): string {
    const owner = this.manager.ownerOf(sandboxId);
    if (owner === undefined) throw new SandboxAccessError('not_running', `sandbox ${sandboxId} is not running`);
    if (owner !== learnerId) throw new SandboxAccessError('forbidden', 'this sandbox is not yours');
    this.manager.touch(sandboxId);
    return sandboxId;
  }

  /**
   * authorize, asking the database when this replica does not know the sandbox (another replica started
   * it; the learner's page reconnected here): for callers that can wait.
   */
  async authorizeAnyReplica(learnerId: string, sandboxId: string): Promise<string> {
    if (this.manager.ownerOf(sandboxId) !== learnerId) await this.manager.lookupOwner(sandboxId);
    return this.authorize(learnerId, sandboxId);
  }

  /**
   * Where a learner's sandbox belongs, the same for every way one starts: in their latest open workshop,
   * counted against its seats, else self-paced, counted against their address. `client` is the learner
   * asking; null is their instructor, whose resets no budget counts.
   */
  private async placement(learnerId: string, client: Client | null): Promise<Placement> {
    const workshopId = await this.seats.workshopOf(learnerId);
    return {
      workshopId,
      address: client?.address ?? null,
      charge: this.admission.startCharge(learnerId, workshopId, client),
    };
  }

  /**
   * The learner's sandbox (their first real action writes their row); AdmissionError past a limit.
   * `handedOut` hears of it as soon as it is theirs. Its published ports follow as its state.
   */
  async ensure(
    learnerId: string,
    client: Client | null,
    handedOut: (sandboxId: string) => void = () => {},
  ): Promise<EnsureResult> {
    await this.admission.learner(learnerId, client);
    const result = await this.manager.ensure(learnerId, await this.placement(learnerId, client));
    if (!('sandbox' in result)) return result;
    handedOut(result.sandbox.id);
    // The answer does not wait on the sandbox's engine for its published ports (tens of ms, on the page's
    // path to its prompt): a warm sandbox has none, and those of a learner's running containers follow
    // as the sandbox's state.
    void this.withPorts(result.sandbox).then((sandbox) => {
      if (sandbox.ports.length) this.emit({ type: 'sandbox', learnerId, event: { type: 'state', sandbox } });
    });
    return result;
  }

  /** Destroys the learner's sandbox and starts a fresh one, placed as any start is. */
  async reset(learnerId: string, client: Client | null): Promise<EnsureResult> {
    await this.admission.learner(learnerId, client);
    return this.manager.reset(learnerId, await this.placement(learnerId, client));
  }

  /** Ends a learner's sandbox (their workshop ended); their progress stays. */
  release(learnerId: string): Promise<void> {
    return this.manager.release(learnerId);
  }

  /** A sandbox the runtime lost (a pod deleted outside Dockside): ended, its learner told. */
  sandboxLost(sandboxId: string): Promise<void> {
    return this.manager.lost(sandboxId);
  }

  /** Gives a learner's sandbox more lifetime (their workshop was extended). */
  extend(learnerId: string, ms: number): void {
    this.manager.extend(learnerId, ms);
  }

  /** Warms sandboxes for seats about to be taken (a workshop opening its doors). */
  prewarm(count: number): void {
    this.manager.prewarm(count);
  }

  /** The learner's running sandbox, or null. */
  sandboxOf(learnerId: string): SandboxView | null {
    return this.manager.viewFor(learnerId);
  }

  /** sandboxOf, asking the database when this replica does not know the learner's sandbox. */
  sandboxOfAnyReplica(learnerId: string): Promise<SandboxView | null> {
    return this.manager.lookupView(learnerId);
  }

  /** The learner's running sandbox with the ports its containers publish right now, or null. */
  async current(learnerId: string): Promise<SandboxView | null> {
    const view = await this.manager.lookupView(learnerId);
    return view && this.withPorts(view);
  }

  /** The learner owning a running sandbox (null: a warm one), undefined when it is not running. */
  ownerOf(sandboxId: string): string | null | undefined {
    return this.manager.ownerOf(sandboxId);
  }

  /** A sandbox view with the ports its containers publish right now. */
  private async withPorts(view: SandboxView): Promise<SandboxView> {
    try {
      const containers = await this.dockers.get(view.id).listContainers();
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

  /**
   * Makes an exercise's starting state in the learner's running sandbox (progress as `exercise` events),
   * unless it was made there before ('ready'); `reset` makes it again from scratch.
   */
  async prepareExercise(
    learnerId: string,
    lessonsDir: string,
    lessonId: string,
    exerciseId: string,
    reset: boolean,
  ): Promise<'prepared' | 'ready'> {
    const own = this.manager.viewFor(learnerId);
    if (!own) throw new SandboxAccessError('not_running', 'start your sandbox first');
    this.manager.touch(own.id);
    return this.exercises.prepare(own.id, lessonsDir, lessonId, exerciseId, {
      reset,
      progress: (progress) => this.emit({ type: 'exercise', learnerId, progress }),
    });
  }

  // --- what is inside an authorised sandbox

  /** The sandbox's /workspace. */
  files(sandboxId: string): SandboxFiles {
    const w = this.workspace;
    return {
      list: (dir) => w.list(sandboxId, dir),
      read: (file) => w.read(sandboxId, file),
      write: (file, content, etag) => w.write(sandboxId, file, content, etag),
      create: (file, type) => w.create(sandboxId, file, type),
      rename: (from, to) => w.rename(sandboxId, from, to),
      remove: (file) => w.remove(sandboxId, file),
    };
  }

  /** The sandbox's Docker client (dockerClients.ts). */
  docker(sandboxId: string): Docker {
    return this.dockers.get(sandboxId);
  }

  /** A connection to a port inside the sandbox (a port preview). */
  connect(sandboxId: string, port: number): Promise<Duplex> {
    return this.runtime.connect(sandboxId, port);
  }

  // --- terminals

  /** A terminal in this learner's own sandbox, else undefined. */
  terminal(learnerId: string, terminalId: string): Terminal | undefined {
    const t = this.terminals.get(terminalId);
    return t && this.manager.ownerOf(t.sandboxId) === learnerId ? t : undefined;
  }

  /**
   * The learner's terminal `terminalId` in their sandbox, or a new one there when it has none by that id.
   * SandboxAccessError for a sandbox not theirs, TerminalError for a terminal of someone else's.
   */
  async openTerminal(
    learnerId: string,
    sandboxId: string,
    { terminalId, cols, rows, locale }: { terminalId?: string; cols: number; rows: number; locale?: 'en' | 'ko' },
  ): Promise<Terminal> {
    await this.authorizeAnyReplica(learnerId, sandboxId);
    const own = terminalId ? this.terminal(learnerId, terminalId) : undefined;
    if (own) return own;
    if (terminalId && this.terminals.get(terminalId))
      throw new TerminalError('forbidden', 'this terminal is not yours');
    // A terminal of this sandbox that another replica opened (the page reconnected here): its session.
    const held = terminalId ? await this.terminals.reattach(sandboxId, terminalId) : undefined;
    return held ?? this.terminals.open(sandboxId, cols, rows, locale);
  }

  /**
   * The learner's terminal `terminalId` in their sandbox if it is still running: attached here, or its
   * session in the sandbox (another replica opened it; it is attached here now, its scrollback kept).
   * Undefined when it is gone; SandboxAccessError for a sandbox not theirs.
   */
  async heldTerminal(learnerId: string, sandboxId: string, terminalId: string): Promise<Terminal | undefined> {
    await this.authorizeAnyReplica(learnerId, sandboxId);
    return this.terminal(learnerId, terminalId) ?? (await this.terminals.reattach(sandboxId, terminalId));
  }

  /** Types into the learner's own terminal (marks the sandbox active); false when it is not theirs. */
  input(learnerId: string, terminalId: string, data: string): boolean {
    const t = this.terminal(learnerId, terminalId);
    if (!t) return false;
    this.manager.touch(t.sandboxId);
    t.write(data);
    return true;
  }

  /**
   * The terminals of the learner's running sandbox, for their instructor's read-only mirror: also those
   * another replica opened, attached here to their sessions in the sandbox (terminal bytes never travel
   * between replicas).
   */
  async terminalsOf(learnerId: string): Promise<Terminal[]> {
    const view = await this.manager.lookupView(learnerId);
    if (!view) return [];
    await this.terminals.adopt(view.id, { mirrorOnly: true });
    return this.terminals.forSandbox(view.id);
  }

  /** Lets go of a viewer of a terminal, if the terminal is still there. */
  detach(terminalId: string, viewer: Viewer): void {
    this.terminals.get(terminalId)?.detach(viewer);
  }

  // --- checks

  /**
   * The learner now looks at this step: its checks run in their sandbox, now and on every change.
   * 'no_sandbox' when they have none running (nothing to check), 'unknown_step' for a step no lesson has.
   */
  focus(learnerId: string, lessonId: string, stepId: string): 'focused' | 'no_sandbox' | 'unknown_step' {
    const own = this.manager.viewFor(learnerId);
    if (!own) return 'no_sandbox';
    return this.checks.setFocus(learnerId, own.id, lessonId, stepId) ? 'focused' : 'unknown_step';
  }

  /**
   * The learner's page now looks at a step on another replica, which runs its checks: this one stops, and
   * lets go of their terminals nobody here watches (so only where the page is are commands reported).
   */
  focusedElsewhere(learnerId: string): void {
    this.checks.clearFocus(learnerId);
    const view = this.manager.viewFor(learnerId);
    if (view) this.terminals.releaseUnwatched(view.id);
  }
}
