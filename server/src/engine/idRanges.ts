// Which id range (a 65536-id block of host ids, native/README.md) a new sandbox gets. The database's
// unique column keeps two of its sandboxes apart; beside it, this replica remembers the ranges the
// runtime refused because something on this host has those ids, and the ranges the runtime reports
// (sandboxes of other databases sharing the data dir), fetched now and then.
import type { Tx } from '../cluster/admissionLock';
import { CapacityError } from './capacity';
import type { Runtime, RuntimeSandbox, SandboxLimits } from './runtime';

/** How long a runtime list stands for the ranges in use (a list is a process). */
const LIVE_RANGES_MS = 2_000;

export class IdRanges {
  /** Id ranges the runtime refused because something on this host has those ids. */
  private hostRanges = new Set<number>();
  /** Ranges the runtime reports (other databases' sandboxes on this data dir), fetched now and then. */
  private liveRanges: { at: number; ranges: Set<number> } | undefined;

  constructor(
    private readonly runtime: Runtime,
    /** Runs under the admission lock (cluster/admissionLock.ts), as every choice of a range must. */
    private readonly locked: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
    /** The largest id range; ranges are 1..maxRange (range 0 would map to host root). */
    private readonly maxRange = 16_383,
  ) {}

  /**
   * Ranges the runtime's sandboxes have, refreshed every few seconds (a process, so read before taking the
   * lock where that can be, and only when a new range is needed).
   */
  async known(): Promise<Set<number>> {
    if (!this.liveRanges || Date.now() - this.liveRanges.at > LIVE_RANGES_MS) this.noteLive(await this.runtime.list());
    return this.liveRanges!.ranges;
  }

  /** A runtime list this replica made anyway (at start) stands for the ranges in use. */
  noteLive(live: RuntimeSandbox[]): void {
    this.liveRanges = { at: Date.now(), ranges: new Set(live.flatMap((s) => (s.range === null ? [] : [s.range]))) };
  }

  /**
   * The smallest id range free in the database (a unique column, so two never overlap), on this host and
   * among `known` (the runtime's). Under the admission lock.
   */
  async free(tx: Tx, known: Set<number>): Promise<number> {
    const rows = await tx.sandbox.findMany({ select: { idRange: true } });
    const used = new Set([...rows.map((r) => r.idRange), ...known, ...this.hostRanges]);
    let range = 1;
    while (used.has(range)) range++;
    if (range > this.maxRange) throw new CapacityError('no free id range');
    return range;
  }

  /**
   * Creates the sandbox in its reserved range, moving it to another when the runtime finds the range
   * taken on this host (an /etc/subuid allocation, a user or a process with those ids): the new range is
   * recorded on the sandbox's row, and in `sandbox.range`.
   */
  async createIn(sandbox: { id: string; range: number }, limits: SandboxLimits): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.runtime.create(sandbox.id, sandbox.range, limits);
      } catch (err) {
        const taken = (err as { kind?: string }).kind === 'exists' && /id range/.test((err as Error).message);
        if (!taken || attempt >= 20) throw err;
        this.hostRanges.add(sandbox.range);
        this.liveRanges = undefined;
        const known = await this.known();
        sandbox.range = await this.locked(async (tx) => {
          const range = await this.free(tx, known);
          await tx.sandbox.update({ where: { id: sandbox.id }, data: { idRange: range } });
          return range;
        });
      }
    }
  }
}
