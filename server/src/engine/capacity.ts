// The counts every start is held against, read under the admission lock (cluster/admissionLock.ts): a
// self-paced address's sandboxes at once, a workshop's seats, the machine's maximum; and, for those who
// wait, where they stand in the queue and about when their turn comes.
import type { Tx } from '../cluster/admissionLock';
import { AdmissionError } from './admission';
import type { Clock } from './clock';

/** No sandbox now: no free id range, one ended while it started, or one still starting elsewhere. */
export class CapacityError extends Error {}

/**
 * Where a learner's sandbox belongs and who asked, for the one seat policy every start goes through:
 * a workshop's sandboxes count against its seats, a self-paced one against its address, all of them
 * against the machine. `charge` counts the start against the asker's budget (admission.ts) and throws
 * when it is spent; it is called only when a start really happens.
 */
export type Placement = { workshopId: string | null; address: string | null; charge?: () => void | Promise<void> };

export type QueuePosition = { position: number; estimateSeconds: number };

/** The manager's options these counts use (ManagerOptions in manager.ts). */
export type CapacityOptions = {
  maxSandboxes: number;
  idleMs: number;
  lifetimeMs: number;
  sandboxesPerAddress?: number;
};

export class Capacity {
  constructor(
    private readonly opts: CapacityOptions,
    private readonly clock: Clock,
    /** How long a start takes lately, for the queue's estimates. */
    private readonly startMs: () => number,
  ) {}

  /**
   * The limits of the asker (not of the machine, which queues): a self-paced address's sandboxes at once,
   * then their budget of starts. Under the admission lock, with the claim right after it.
   */
  async admit(tx: Tx, { workshopId, address, charge }: Placement): Promise<void> {
    const cap = this.opts.sandboxesPerAddress;
    if (!workshopId && address !== null && cap !== undefined) {
      const mine = await tx.sandbox.findMany({
        where: { workshopId: null, address },
        select: { lastActiveAt: true, assignedAt: true, createdAt: true },
      });
      const waiting = await tx.queueEntry.count({ where: { workshopId: null, address } });
      if (mine.length + waiting >= cap) {
        // When the first of them ends at the latest, unless it is kept busy.
        const now = this.clock.now();
        const ends = mine.map((e) =>
          Math.min(
            e.lastActiveAt.getTime() + this.opts.idleMs,
            (e.assignedAt ?? e.createdAt).getTime() + this.opts.lifetimeMs,
          ),
        );
        const retryAfter = Math.max(1, Math.ceil(((ends.length ? Math.min(...ends) : now + 60_000) - now) / 1000));
        throw new AdmissionError(
          'address_limit',
          `${cap} sandboxes are already running for your network; try again when one ends, or join your class's workshop with its code`,
          retryAfter,
        );
      }
    }
    await charge?.();
  }

  /** Whether one more sandbox fits the workshop's seats (null: no limit of its own) and the machine. */
  async fits(tx: Tx, workshopId: string | null, seats: number | null): Promise<boolean> {
    if (workshopId && seats !== null) {
      const used = await tx.sandbox.count({ where: { workshopId } });
      if (used >= seats) return false;
    }
    // A warm sandbox is already counted; taking it never exceeds the limit.
    if ((await tx.sandbox.count({ where: { ownerId: null, state: 'ready' } })) > 0) return true;
    return (await tx.sandbox.count()) < this.opts.maxSandboxes;
  }

  /** Position (1-based) and an estimate: when the n-th soonest ending sandbox ends, plus a start. */
  async queuePosition(tx: Tx, seq: number): Promise<QueuePosition> {
    const now = this.clock.now();
    const ahead = await tx.queueEntry.count({ where: { seq: { lt: seq } } });
    const rows = await tx.sandbox.findMany({
      where: { assignedAt: { not: null } },
      select: { assignedAt: true, lastActiveAt: true },
    });
    const ends = rows
      .map((e) => Math.min(e.lastActiveAt.getTime() + this.opts.idleMs, e.assignedAt!.getTime() + this.opts.lifetimeMs))
      .sort((a, b) => a - b);
    const freeAt = ends[Math.min(ahead, ends.length - 1)] ?? now;
    const startMs = this.startMs();
    return { position: ahead + 1, estimateSeconds: Math.max(1, Math.ceil((freeAt - now + startMs) / 1000)) };
  }
}
