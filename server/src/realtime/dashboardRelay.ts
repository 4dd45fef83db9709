// What instructors' dashboards are built from, told to every replica: this replica's engine events about a
// learner (checks, commands, sandbox and engine changes) and workshop changes are published once on the
// cluster bus, and every replica (this one included: the bus delivers to its publisher too) hears each once.
// Busy sources are coalesced (a build's dozens of engine events, a start's progress): the bus is for
// low-rate control events. The dashboard needs only that a learner changed, plus the checks' results and
// the last command, which exist only where they happened.
import type { ChecksResult } from '@dockside/protocol';
import type { ClusterBus } from '../cluster/bus';
import type { Engine } from '../engine/engine';
import type { CommandEvent } from '../engine/shellIntegration';

export const LEARNER_TOPIC = 'dashboard:learner';
export const WORKSHOP_TOPIC = 'dashboard:workshop';

/** Something of a learner changed; with what the dashboard cannot read from the database. */
export type LearnerFact = {
  learnerId: string;
  checks?: ChecksResult;
  sandboxId?: string;
  command?: CommandEvent;
  /** The sandbox's engine changed (images, containers): its counts are asked again. */
  engine?: boolean;
};

const SANDBOX_SETTLE_MS = 100;
const ENGINE_SETTLE_MS = 250;
const MAX_COMMAND_LINE = 1000;
const MAX_HINT = 300;

export class DashboardRelay {
  private readonly settling = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly bus: ClusterBus,
    private readonly engine: Engine,
    on: { learner: (fact: LearnerFact) => void; workshop: (workshopId: string) => void },
  ) {
    bus.subscribe(LEARNER_TOPIC, (p) => {
      const fact = readFact(p);
      if (fact) on.learner(fact);
    });
    bus.subscribe(WORKSHOP_TOPIC, (p) => {
      const id = (p as { workshopId?: unknown } | null)?.workshopId;
      if (typeof id === 'string') on.workshop(id);
    });
    engine.subscribe((e) => {
      switch (e.type) {
        case 'sandbox':
          return this.settle(`l:${e.learnerId}`, SANDBOX_SETTLE_MS, () => ({ learnerId: e.learnerId }));
        case 'checks':
          return this.publish({ learnerId: e.learnerId, checks: e.result });
        case 'engine':
          return this.settle(`s:${e.sandboxId}`, ENGINE_SETTLE_MS, () => this.ofSandbox(e.sandboxId, { engine: true }));
        case 'command': {
          const command = { ...e.command, commandLine: e.command.commandLine.slice(0, MAX_COMMAND_LINE) };
          return this.publish(this.ofSandbox(e.sandboxId, { command }));
        }
      }
    });
  }

  /** A workshop changed (a join, doors opened, time extended, ended). */
  workshopChanged(workshopId: string): void {
    this.bus.publish(WORKSHOP_TOPIC, { workshopId });
  }

  private ofSandbox(sandboxId: string, fact: Omit<LearnerFact, 'learnerId'>): LearnerFact | undefined {
    const learnerId = this.engine.ownerOf(sandboxId);
    return learnerId ? { learnerId, sandboxId, ...fact } : undefined;
  }

  /** One message for a burst, `ms` after its first event (by then it holds the whole burst's news). */
  private settle(key: string, ms: number, fact: () => LearnerFact | undefined): void {
    if (this.settling.has(key)) return;
    this.settling.set(
      key,
      setTimeout(() => {
        this.settling.delete(key);
        this.publish(fact());
      }, ms),
    );
  }

  /** Checks too wide for one bus message go with shorter hints, or without results. */
  private publish(fact: LearnerFact | undefined): void {
    if (!fact) return;
    const tries: LearnerFact[] = [fact];
    if (fact.checks) {
      const short = (s: string) => s.slice(0, MAX_HINT);
      tries.push({
        ...fact,
        checks: {
          ...fact.checks,
          results: fact.checks.results.map((r) =>
            r.status === 'failed' && r.hint ? { ...r, hint: { en: short(r.hint.en), ko: short(r.hint.ko) } } : r,
          ),
        },
      });
      tries.push({ ...fact, checks: undefined });
    }
    for (const [i, t] of tries.entries()) {
      try {
        return this.bus.publish(LEARNER_TOPIC, t);
      } catch (err) {
        if (i === tries.length - 1) console.error(`dashboard: ${(err as Error).message}`);
      }
    }
  }
}

function readFact(p: unknown): LearnerFact | undefined {
  if (typeof p !== 'object' || p === null) return undefined;
  const f = p as Partial<LearnerFact>;
  return typeof f.learnerId === 'string' ? (f as LearnerFact) : undefined;
}
