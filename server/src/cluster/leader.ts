// Who among the replicas sharing one database is alive, and which one leads: the leader alone acts on
// the sandboxes' deadlines (idle, lifetime, their warnings), refills the warm pool and cleans up after a
// replica that died mid-start. Both are leases, rows of ClusterLease taken and renewed by a conditional
// update (the same on SQLite and PostgreSQL): "replica:<id>" by its replica alone, "leader" by whichever
// replica finds it lapsed first. A replica that dies stops renewing; within one lease time another leads.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/client';
import type { Clock, TimerHandle } from '../engine/clock';

export type LeaseTiming = {
  /** How long a lease holds without renewal: the longest a dead leader leaves the timers unattended. */
  leaseMs: number;
  /** How often a replica renews its leases (a fraction of leaseMs, so a slow renewal does not lapse it). */
  renewMs: number;
};

export const DEFAULT_LEASE_TIMING: LeaseTiming = { leaseMs: 6_000, renewMs: 2_000 };

const LEADER = 'leader';
const REPLICA = 'replica:';

export function newReplicaId(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** One named lease in the database. */
export class DbLease {
  constructor(
    private readonly db: Db,
    readonly name: string,
    private readonly holder: string,
    private readonly leaseMs: number,
    private readonly now: () => number,
  ) {}

  /** Takes the lease if it is free or lapsed, renews it if it is ours; false while another holds it. */
  async acquire(): Promise<boolean> {
    const now = this.now();
    const expiresAt = new Date(now + this.leaseMs);
    const { count } = await this.db.clusterLease.updateMany({
      where: { name: this.name, OR: [{ holder: this.holder }, { expiresAt: { lt: new Date(now) } }] },
      data: { holder: this.holder, expiresAt },
    });
    if (count === 1) return true;
    try {
      await this.db.clusterLease.create({ data: { name: this.name, holder: this.holder, expiresAt } });
      return true;
    } catch {
      return false; // it exists and is someone else's (or another took it this moment)
    }
  }

  /** Lets go at once, so another replica need not wait for it to lapse. */
  async release(): Promise<void> {
    await this.db.clusterLease.deleteMany({ where: { name: this.name, holder: this.holder } });
  }
}

/**
 * This replica's membership: its own lease renewed on the clock, and the leader's taken when it lapses.
 * `onLeadership` hears each change (true when this replica starts leading, false when it stops).
 */
export class ClusterMembership {
  private readonly presence: DbLease;
  private readonly leader: DbLease;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private leadingNow = false;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly replicaId: string,
    private readonly timing: LeaseTiming,
    private readonly onLeadership: (leading: boolean) => void,
  ) {
    const now = () => clock.now();
    this.presence = new DbLease(db, `${REPLICA}${replicaId}`, replicaId, timing.leaseMs, now);
    this.leader = new DbLease(db, LEADER, replicaId, timing.leaseMs, now);
  }

  get leading(): boolean {
    return this.leadingNow;
  }

  /** Announces this replica and tries for the lead, then keeps renewing both. */
  async start(): Promise<void> {
    await this.presence.acquire();
    await this.renew();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    let leading = false;
    try {
      await this.presence.acquire();
      leading = await this.leader.acquire();
    } catch (err) {
      // A database that does not answer: act as a follower until it does (another may lead meanwhile).
      console.error(`cluster: could not renew the leases: ${(err as Error).message}`);
    }
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.renew(), this.timing.renewMs);
    if (leading !== this.leadingNow) {
      this.leadingNow = leading;
      this.onLeadership(leading);
    }
  }

  /** The replicas whose leases hold right now (this one's included once started). */
  async alive(): Promise<Set<string>> {
    const rows = await this.db.clusterLease.findMany({
      where: { name: { startsWith: REPLICA }, expiresAt: { gte: new Date(this.clock.now()) } },
      select: { holder: true },
    });
    return new Set(rows.map((r) => r.holder));
  }

  /** Stops renewing and gives both leases back (a replica that shuts down in order). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    if (this.leadingNow) {
      this.leadingNow = false;
      this.onLeadership(false);
    }
    await Promise.allSettled([this.leader.release(), this.presence.release()]);
  }
}
