// Runs the checks of the step each learner is looking at: at once, when their engine reports a change
// (build finished, container started or stopped, image tagged or removed) and when a terminal command
// finishes. Results are pushed to the learner and a passed step is stored.
import type { Readable } from 'node:stream';
import type { CheckResultView, ChecksResult } from '@dockside/protocol';
import { evaluate, type CheckSpec } from './checks';
import { DockerClients } from './dockerClients';
import type { ProgressStore } from './progress';
import type { LayerAnalyzer } from '../layers/analyzer';
import type { Runtime } from './runtime';
import type { CommandEvent } from './shellIntegration';

export type StepCheck = { id: string; spec: CheckSpec };
/** The checks of a step, or undefined when the lesson or step does not exist. */
export type StepChecks = (lessonId: string, stepId: string) => StepCheck[] | undefined;

type Focus = {
  sandboxId: string;
  lessonId: string;
  stepId: string;
  timer?: NodeJS.Timeout;
  running?: Promise<unknown>;
  again?: boolean;
};

const DEBOUNCE_MS = 250;
const MAX_COMMANDS = 500;

export class CheckRunner {
  private focus = new Map<string, Focus>();
  private commands = new Map<string, CommandEvent[]>();
  private engineWatches = new Map<string, Readable>();

  constructor(
    private readonly runtime: Runtime,
    private readonly progress: ProgressStore,
    private readonly stepChecks: StepChecks,
    private readonly emit: (learnerId: string, result: ChecksResult) => void,
    /** Every event of a followed engine, for views other than checks (layers, published ports). */
    private readonly engineChanged: (sandboxId: string) => void = () => {},
    private readonly dockers: DockerClients = new DockerClients(runtime),
    /** Reads layer contents for the checks that look into an image's layers. */
    private readonly layers?: LayerAnalyzer,
  ) {}

  /** The learner now looks at this step; returns false for an unknown lesson or step. */
  setFocus(learnerId: string, sandboxId: string, lessonId: string, stepId: string): boolean {
    if (!this.stepChecks(lessonId, stepId)) return false;
    const old = this.focus.get(learnerId);
    if (old?.timer) clearTimeout(old.timer);
    this.focus.set(learnerId, { sandboxId, lessonId, stepId });
    this.watchEngine(sandboxId);
    this.schedule(learnerId, 0);
    return true;
  }

  clearFocus(learnerId: string): void {
    const f = this.focus.get(learnerId);
    if (f?.timer) clearTimeout(f.timer);
    this.focus.delete(learnerId);
  }

  recordCommand(sandboxId: string, e: CommandEvent): void {
    const list = this.commands.get(sandboxId) ?? [];
    list.push(e);
    if (list.length > MAX_COMMANDS) list.splice(0, list.length - MAX_COMMANDS);
    this.commands.set(sandboxId, list);
    this.rerunSandbox(sandboxId);
  }

  /** Forgets a destroyed sandbox. */
  forgetSandbox(sandboxId: string): void {
    this.engineWatches.get(sandboxId)?.destroy();
    this.engineWatches.delete(sandboxId);
    this.commands.delete(sandboxId);
    for (const [learnerId, f] of this.focus) if (f.sandboxId === sandboxId) this.clearFocus(learnerId);
  }

  close(): void {
    for (const id of [...this.engineWatches.keys()]) this.forgetSandbox(id);
  }

  private rerunSandbox(sandboxId: string): void {
    for (const [learnerId, f] of this.focus) if (f.sandboxId === sandboxId) this.schedule(learnerId, DEBOUNCE_MS);
  }

  /** Follows the engine's event stream while someone looks at a step in this sandbox. */
  private watchEngine(sandboxId: string): void {
    if (this.engineWatches.has(sandboxId)) return;
    this.dockers.get(sandboxId).getEvents({}, (err, stream) => {
      if (err || !stream) {
        console.error(`checks: cannot follow engine events of ${sandboxId}: ${err?.message ?? 'no stream'}`);
        return;
      }
      const readable = stream as Readable;
      this.engineWatches.set(sandboxId, readable);
      readable.on('data', () => {
        this.rerunSandbox(sandboxId);
        this.engineChanged(sandboxId);
      });
      readable.on('error', () => {});
      readable.on('close', () => {
        if (this.engineWatches.get(sandboxId) === readable) this.engineWatches.delete(sandboxId);
      });
    });
  }

  private schedule(learnerId: string, delay: number): void {
    const f = this.focus.get(learnerId);
    if (!f) return;
    if (f.timer) clearTimeout(f.timer);
    f.timer = setTimeout(() => {
      f.timer = undefined;
      if (f.running) {
        f.again = true;
        return;
      }
      f.running = this.run(learnerId, f).finally(() => {
        f.running = undefined;
        if (f.again) {
          f.again = false;
          this.schedule(learnerId, 0);
        }
      });
    }, delay);
  }

  private async run(learnerId: string, f: Focus): Promise<ChecksResult | undefined> {
    const checks = this.stepChecks(f.lessonId, f.stepId) ?? [];
    const docker = this.dockers.get(f.sandboxId);
    const analyzer = this.layers;
    const ctx = {
      sandboxId: f.sandboxId,
      runtime: this.runtime,
      docker,
      commands: this.commands.get(f.sandboxId) ?? [],
      layers: analyzer && (async (image: string) => (await analyzer.indexed(docker, image)).layers),
    };
    const results: CheckResultView[] = await Promise.all(
      checks.map(async ({ id, spec }) => {
        try {
          const outcome = await evaluate(spec, ctx);
          return outcome.passed
            ? { id, status: 'passed' as const }
            : { id, status: 'failed' as const, hint: outcome.hint };
        } catch (err) {
          const message = `Could not check yet: ${(err as Error).message}`;
          return {
            id,
            status: 'failed' as const,
            hint: { en: message, ko: `아직 확인할 수 없습니다: ${(err as Error).message}` },
          };
        }
      }),
    );
    if (this.focus.get(learnerId) !== f) return undefined; // moved on while we were checking
    const allPassed = checks.length > 0 && results.every((r) => r.status === 'passed');
    const stepStatus = await this.progress.set(learnerId, f.lessonId, f.stepId, allPassed ? 'passed' : 'working');
    const result = { lessonId: f.lessonId, stepId: f.stepId, stepStatus, results };
    this.emit(learnerId, result);
    return result;
  }
}
