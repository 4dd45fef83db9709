// The sandbox manager: one sandbox per learner, a warm pool so starting feels instant, a global and a
// per-workshop capacity with a queue, idle and lifetime limits, and reconciliation after a restart.
//
// Several server processes (replicas) may share one database and this machine's runtime. The database
// is the truth: each sandbox's row (its owner, workshop, address, deadlines), the queue, who leads.
// Every admission decision (a warm sandbox handed out, a new one counted, a queue place) runs under one
// lock across replicas (cluster/admissionLock.ts). The leader (cluster/leader.ts) alone acts on
// deadlines, warns, refills the pool and cleans up after a replica that died mid-start. Each replica
// keeps a cache of the rows it has seen (sandboxCache.ts), kept right by the cluster bus. The counts a
// start is held against are capacity.ts's, id ranges idRanges.ts's. Events for a learner are emitted
// once, by the replica that caused them.
import { randomBytes } from 'node:crypto';
import { median, type SandboxPhase, type SandboxView } from '@dockside/protocol';
import { withAdmissionLock, type Tx } from '../cluster/admissionLock';
import { LocalBus, type ClusterBus } from '../cluster/bus';
import { ClusterMembership, DEFAULT_LEASE_TIMING, newReplicaId, type LeaseTiming } from '../cluster/leader';
import type { Db } from '../db/client';
import { Capacity, CapacityError, type Placement, type QueuePosition } from './capacity';
import type { Clock, TimerHandle } from './clock';
import { IdRanges } from './idRanges';
import { LEASE_RENEW_MS, Leases } from './leases';
import type { Runtime, SandboxLimits } from './runtime';
import { changedOf, SandboxCache, type Changed, type Entry, type Row } from './sandboxCache';

export { CapacityError, type Placement };

export type ManagerOptions = {
  poolSize: number;
  maxSandboxes: number;
  idleMs: number;
  lifetimeMs: number;
  /** How long before the idle or lifetime end the learner is warned. */
  warnBeforeMs: number;
  limits: SandboxLimits;
  keepOnShutdown: boolean;
  /** Seats of a workshop, or null when it has no limit of its own. */
  seatLimit: (workshopId: string) => Promise<number | null>;
  /** Self-paced sandboxes at once from one client address (waiting in the queue counts); none if unset. */
  sandboxesPerAddress?: number;
  /**
   * Starts every sandbox id this manager makes. Several servers may share one data dir (a test run
   * beside `npm start`); at start each destroys only the orphans with its own prefix. Replicas of one
   * database share it.
   */
  idPrefix?: string;
  /**
   * Where servers keep their leases (leases.ts): this one renews its own, and destroys sandboxes of
   * other prefixes whose server is gone for good. None when unset.
   */
  leaseDir?: string;
  /** The largest id range; ranges are 1..maxRange (range 0 would map to host root). */
  maxRange?: number;
  /** The address of a port's preview (its own origin, see http/origins.ts). */
  previewUrl?: (sandboxId: string, port: number) => string;
  /** Run on each new sandbox before it is anyone's (the egress proxy's client configuration). */
  prepareSandbox?: (runtime: Runtime, sandboxId: string) => Promise<void>;
  /** What replicas tell each other (a sandbox gone or changed); LocalBus for one process. */
  bus?: ClusterBus;
  /** This replica's name in the leases and on the rows it is creating; unique per process by default. */
  replicaId?: string;
  /** The replicas' leases (cluster/leader.ts). */
  leaseTiming?: LeaseTiming;
  /** The longest the leader waits between looks at the deadlines (it also wakes at the next one it knows). */
  tickMs?: number;
};

export type ManagerEvent =
  | { type: 'progress'; phase: SandboxPhase; percent: number; message: string }
  | { type: 'state'; sandbox: SandboxView }
  | { type: 'queue'; position: number; estimateSeconds: number }
  | { type: 'warning'; reason: 'idle' | 'lifetime'; at: string }
  | { type: 'ended'; sandboxId: string; reason: 'idle' | 'lifetime' | 'reset' | 'lost' | 'shutdown' | 'released' }
  | { type: 'error'; code: string; message: string };

export type EnsureResult = { sandbox: SandboxView } | { queued: { position: number; estimateSeconds: number } };

const SELF_PACED: Placement = { workshopId: null, address: null };

/** Activity reaches the database at most this often per sandbox (and at the latest this long after). */
export const ACTIVITY_PERSIST_MS = 10_000;
/** The idle reaper waits this long past an idle end: activity on another replica may not be written yet. */
export const ACTIVITY_LAG_MS = ACTIVITY_PERSIST_MS + 1_000;
const DEFAULT_TICK_MS = 5_000;
/** The PoolTarget row of the warm sandboxes asked for beyond the pool's size. */
const PREWARM = 'prewarm';
/** How long a learner whose sandbox another replica is starting waits for it. */
const FOREIGN_START_WAIT_MS = 120_000;
/** How long a refill waits after a warm hand-out while the pool has another (refillAfterHandOut). */
export const REFILL_AFTER_HAND_OUT_MS = 3_000;

type Claim = { kind: 'warm' | 'new'; row: Row };
type Decision = Claim | { kind: 'existing'; row: Row } | { kind: 'queued'; fresh: boolean; position: QueuePosition };
type EndReason = Extract<ManagerEvent, { type: 'ended' }>['reason'];

export class SandboxManager {
  /** The rows this replica knows (its own and those it looked up), for the synchronous reads. */
  private readonly cache = new SandboxCache();
  private starting = new Map<string, Promise<Entry>>(); // by learner, on this replica
  private createTimes: number[] = [];
  private readonly ranges: IdRanges;
  private readonly capacity: Capacity;
  private closed = false;
  private inFlight = new Set<Promise<void>>();
  private background = new Set<Promise<unknown>>();
  private leases: Leases | undefined;
  private leaseTimer: TimerHandle | undefined;
  private listeners = new Set<(learnerId: string, event: ManagerEvent) => void>();
  private droppedListeners = new Set<(sandboxId: string) => void>();
  private readonly bus: ClusterBus;
  private readonly replicaId: string;
  private readonly membership: ClusterMembership;
  private readonly unsubscribe: (() => void)[];
  private tickTimer: TimerHandle | undefined;
  /** Warnings the leader sent: the activity an idle warning was for, the end a lifetime one was for. */
  private warned = new Map<string, { idleFor?: number; lifetimeAt?: number }>();
  private readonly tick = this.singleFlight(() => this.tickOnce());
  private readonly drainQueue = this.singleFlight(() => this.drainOnce());
  private readonly refill = this.singleFlight(() => this.refillOnce());

  constructor(
    private readonly db: Db,
    private readonly runtime: Runtime,
    private readonly clock: Clock,
    private readonly opts: ManagerOptions,
  ) {
    this.bus = opts.bus ?? new LocalBus();
    this.ranges = new IdRanges(runtime, (fn) => this.locked(fn), opts.maxRange);
    this.capacity = new Capacity(opts, clock, () => median(this.createTimes) ?? 1000);
    this.replicaId = opts.replicaId ?? newReplicaId();
    this.membership = new ClusterMembership(
      db,
      clock,
      this.replicaId,
      opts.leaseTiming ?? DEFAULT_LEASE_TIMING,
      (leading) => {
        if (leading) void this.tick();
        else this.clock.clearTimeout(this.tickTimer);
      },
    );
    this.unsubscribe = [
      this.bus.subscribe('sandbox.gone', (p) => this.forget((p as { id: string }).id)),
      this.bus.subscribe('sandbox.changed', (p) => this.cache.apply(p as Changed)),
    ];
  }

  /** Every event for a learner; the realtime layer forwards them to that learner's sockets. */
  subscribe(listener: (learnerId: string, event: ManagerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A sandbox this replica knew is gone (ended here or on another replica): whatever this replica holds
   * for it (terminals, caches) can go. Not a learner event: that was emitted where it ended.
   */
  onDropped(listener: (sandboxId: string) => void): () => void {
    this.droppedListeners.add(listener);
    return () => this.droppedListeners.delete(listener);
  }

  private emit(learnerId: string | null, event: ManagerEvent): void {
    if (!learnerId) return;
    for (const l of this.listeners) l(learnerId, event);
  }

  /** Resolves when no background work (refills, the queue, database writes, starts) is left. */
  async settled(): Promise<void> {
    while (this.background.size || this.inFlight.size) await Promise.allSettled([...this.background, ...this.inFlight]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.background.add(work);
    const forget = () => this.background.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** One run at a time; a call during a run asks for one more after it. */
  private singleFlight(run: () => Promise<void>): () => Promise<void> {
    let current: Promise<void> | undefined;
    let again = false;
    return () => {
      if (current) {
        again = true;
        return current;
      }
      current = this.track(
        (async () => {
          do {
            again = false;
            try {
              await run();
            } catch (err) {
              if (!this.closed) console.error(`sandbox manager: ${(err as Error).message}`);
            }
          } while (again && !this.closed);
        })().finally(() => (current = undefined)),
      );
      return current;
    };
  }

  private locked<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withAdmissionLock(this.db, fn);
  }

  /**
   * Re-adopts sandboxes that survived a restart, destroys orphans, then joins the other replicas (and
   * leads if none does). Rows another live replica is starting or ending are left to it.
   */
  async start(): Promise<{ adopted: string[]; orphans: string[]; lost: string[]; abandoned: string[] }> {
    // The runtime first: a sandbox it lists had its row before it was created, so one with no row is an orphan.
    const live = await this.runtime.list();
    this.ranges.noteLive(live);
    await this.membership.start();
    const [rows, alive] = await Promise.all([this.db.sandbox.findMany(), this.membership.alive()]);
    const running = new Set(live.filter((s) => s.running).map((s) => s.id));
    let runningNow: Set<string> | undefined;
    const adopted: string[] = [];
    const lost: string[] = [];
    for (const row of rows) {
      if (row.state === 'ready') {
        // One made ready since the list was taken is in a fresh one.
        if (!running.has(row.id))
          runningNow ??= new Set((await this.runtime.list()).filter((s) => s.running).map((s) => s.id));
        if (running.has(row.id) || runningNow?.has(row.id)) {
          this.cache.put(row);
          adopted.push(row.id);
          continue;
        }
      } else if (row.holder && row.holder !== this.replicaId && alive.has(row.holder)) continue;
      lost.push(row.id);
      await this.runtime.destroy(row.id).catch(() => {});
      await this.db.sandbox.deleteMany({ where: { id: row.id } }).catch(() => {});
      this.emit(row.ownerId, { type: 'ended', sandboxId: row.id, reason: 'lost' });
    }
    const known = new Set(rows.map((r) => r.id));
    const prefix = this.opts.idPrefix ?? 'sb-';
    const orphans = live.filter((s) => s.id.startsWith(prefix) && !known.has(s.id)).map((s) => s.id);
    for (const id of orphans) await this.runtime.destroy(id).catch(() => {});
    const abandoned = this.opts.leaseDir ? this.sweepAbandoned(live.filter((s) => !known.has(s.id))) : [];
    for (const id of abandoned) await this.runtime.destroy(id).catch(() => {});
    void this.refill();
    return { adopted, orphans, lost, abandoned };
  }

  /** Holds this server's lease from now on; returns the sandboxes of servers gone for good. */
  private sweepAbandoned(others: { id: string; createdAt: number }[]): string[] {
    this.leases = new Leases(this.opts.leaseDir!, this.opts.idPrefix ?? 'sb-', this.opts.lifetimeMs);
    const renew = () => {
      try {
        this.leases!.renew(this.clock.now());
      } catch (err) {
        console.error(`sandbox manager: could not renew the lease: ${(err as Error).message}`);
      }
      this.leaseTimer = this.clock.setTimeout(renew, LEASE_RENEW_MS);
    };
    renew();
    return others.filter((s) => this.leases!.abandoned(s.id, s.createdAt, this.clock.now())).map((s) => s.id);
  }

  /**
   * The learner's sandbox: theirs already, one from the pool, a new one, or a place in the queue.
   * Throws AdmissionError when the placement's address or budget allows no start.
   */
  async ensure(learnerId: string, placement: Placement = SELF_PACED): Promise<EnsureResult> {
    const own = this.ownedBy(learnerId);
    if (own) {
      this.touch(own.id);
      this.moveTo(own, placement);
      return { sandbox: this.view(own) };
    }
    const pending = this.starting.get(learnerId);
    if (pending) return { sandbox: this.view(await pending) };

    const { workshopId } = placement;
    const seats = workshopId ? await this.opts.seatLimit(workshopId) : null;
    if (this.ownedBy(learnerId) || this.starting.has(learnerId)) return this.ensure(learnerId, placement);
    // Under the admission lock, so two learners (on any replicas) never take the same last seat or warm
    // sandbox, and one learner asking twice at once neither starts twice nor waits twice in the queue.
    // The runtime's ranges (a process to list them) only when no warm sandbox is there to take.
    const decision = await this.locked((tx) => this.decide(tx, learnerId, placement, seats, () => this.ranges.known()));
    switch (decision.kind) {
      case 'existing':
        return this.existing(learnerId, decision.row, placement);
      case 'queued':
        if (decision.fresh) this.emit(learnerId, { type: 'queue', ...decision.position });
        return { queued: decision.position };
      default:
        return { sandbox: this.view(await this.finish(learnerId, decision)) };
    }
  }

  private async decide(
    tx: Tx,
    learnerId: string,
    placement: Placement,
    seats: number | null,
    ranges: () => Promise<Set<number>>,
  ): Promise<Decision> {
    const row = await tx.sandbox.findFirst({ where: { ownerId: learnerId, state: { not: 'stopping' } } });
    if (row) return { kind: 'existing', row };
    const waiting = await tx.queueEntry.findUnique({ where: { learnerId } });
    if (waiting) return { kind: 'queued', fresh: false, position: await this.capacity.queuePosition(tx, waiting.seq) };
    const { workshopId, address } = placement;
    await this.capacity.admit(tx, placement);
    if (!(await this.capacity.fits(tx, workshopId, seats))) {
      const entry = await tx.queueEntry.create({
        data: { learnerId, workshopId, address, since: new Date(this.clock.now()) },
      });
      return { kind: 'queued', fresh: true, position: await this.capacity.queuePosition(tx, entry.seq) };
    }
    return this.claim(tx, learnerId, workshopId, address, ranges);
  }

  /** The learner has a row already: ready (perhaps another replica's), or being started somewhere. */
  private async existing(learnerId: string, row: Row, placement: Placement): Promise<EnsureResult> {
    if (row.state === 'ready') {
      const entry = this.cache.put(row);
      this.touch(entry.id);
      this.moveTo(entry, placement);
      return { sandbox: this.view(entry) };
    }
    const pending = this.starting.get(learnerId);
    if (pending) return { sandbox: this.view(await pending) };
    // Another replica is starting it: wait for its row to be ready (or gone, when that start failed).
    const until = Date.now() + FOREIGN_START_WAIT_MS;
    while (Date.now() < until && !this.closed) {
      await sleep(200);
      const now = await this.db.sandbox.findUnique({ where: { id: row.id } });
      if (!now || now.state === 'stopping') return this.ensure(learnerId, placement);
      if (now.state === 'ready') return this.existing(learnerId, now, placement);
    }
    throw new CapacityError('your sandbox is still starting; try again in a moment');
  }

  /** A running sandbox follows its learner into (or out of) a workshop: it counts where they are now. */
  private moveTo(entry: Entry, { workshopId, address }: Placement): void {
    const addressNew = entry.address === null && address !== null;
    entry.address ??= address;
    if (entry.workshopId === workshopId && !addressNew) return;
    entry.workshopId = workshopId;
    void this.track(
      this.db.sandbox
        .updateMany({ where: { id: entry.id }, data: { workshopId, address: entry.address } })
        .then(() => this.publishChanged(entry))
        .catch(() => {}),
    );
  }

  /**
   * Takes a warm sandbox for the learner, or counts a new one (its row, owned from now on): the
   * decision of an admission. A warm one is taken by a conditional update, so it is never handed out twice.
   */
  private async claim(
    tx: Tx,
    learnerId: string,
    workshopId: string | null,
    address: string | null,
    ranges: () => Promise<Set<number>>,
  ): Promise<Claim> {
    for (;;) {
      const warm = await tx.sandbox.findFirst({
        where: { ownerId: null, state: 'ready' },
        orderBy: { createdAt: 'asc' },
      });
      if (!warm) break;
      const now = new Date(this.clock.now());
      const data = { ownerId: learnerId, workshopId, address, assignedAt: now, lastActiveAt: now };
      const { count } = await tx.sandbox.updateMany({ where: { id: warm.id, ownerId: null, state: 'ready' }, data });
      if (count === 1) {
        // A prewarmed one taken: the pool shrinks back towards its usual size.
        await tx.poolTarget.updateMany({
          where: { name: PREWARM, count: { gt: 0 } },
          data: { count: { decrement: 1 } },
        });
        return { kind: 'warm', row: { ...warm, ...data } };
      }
    }
    const range = await this.ranges.free(tx, await ranges());
    return { kind: 'new', row: await tx.sandbox.create({ data: this.newRow(learnerId, workshopId, address, range) }) };
  }

  private newRow(ownerId: string | null, workshopId: string | null, address: string | null, idRange: number) {
    const now = new Date(this.clock.now());
    return {
      id: `${this.opts.idPrefix ?? 'sb-'}${randomBytes(6).toString('hex')}`,
      ownerId,
      workshopId,
      address,
      idRange,
      state: 'creating',
      holder: this.replicaId,
      memoryBytes: BigInt(this.opts.limits.memoryBytes),
      pidsLimit: this.opts.limits.pids,
      cpus: this.opts.limits.cpus,
      diskBytes: BigInt(this.opts.limits.diskBytes),
      createdAt: now,
      lastActiveAt: now,
    };
  }

  /** Finishes a claim on this replica: a warm sandbox is announced, a new one started. */
  private finish(learnerId: string, claim: Claim): Promise<Entry> {
    const entry = this.cache.put(claim.row);
    let work: Promise<Entry>;
    if (claim.kind === 'warm') {
      this.publishChanged(entry);
      this.announce(entry);
      this.refillAfterHandOut();
      work = Promise.resolve(entry);
    } else {
      work = this.createEntry(entry, learnerId).then(() => entry);
    }
    this.starting.set(learnerId, work);
    return work.finally(() => this.starting.delete(learnerId));
  }

  /** The learner hears their sandbox is ready; the leader looks at its deadlines. */
  private announce(entry: Entry): void {
    void this.kickLeader();
    this.emit(entry.ownerId, { type: 'progress', phase: 'ready', percent: 100, message: 'ready' });
    this.emit(entry.ownerId, { type: 'state', sandbox: this.view(entry) });
  }

  /**
   * Creates the sandbox of a new entry (for a learner, or the pool when null), streaming progress.
   * Shutdown waits for every start still running, so none outlives the server.
   */
  private createEntry(entry: Entry, learnerId: string | null): Promise<void> {
    const start = this.startEntry(entry, learnerId);
    this.inFlight.add(start);
    const forget = () => this.inFlight.delete(start);
    start.then(forget, forget);
    return start;
  }

  private async startEntry(entry: Entry, learnerId: string | null): Promise<void> {
    const started = this.clock.now();
    const { id } = entry;
    this.emit(learnerId, { type: 'progress', phase: 'allocating', percent: 5, message: 'allocating' });
    let ticker: (() => TimerHandle | undefined) | undefined;
    try {
      entry.phase = 'starting-engine';
      this.emit(learnerId, { type: 'progress', phase: 'starting-engine', percent: 20, message: 'starting engine' });
      ticker = learnerId ? this.progressTicker(learnerId) : undefined;
      await this.ranges.createIn(entry, this.opts.limits);
      await this.opts.prepareSandbox?.(this.runtime, id);
      if (learnerId) this.label(entry);
    } catch (err) {
      this.cache.delete(id);
      // The sandbox before its row: a sandbox without a row would look like an orphan to a starting replica.
      await this.runtime.destroy(id).catch(() => {});
      await this.db.sandbox.deleteMany({ where: { id } }).catch(() => {});
      this.emit(learnerId, {
        type: 'error',
        code: 'sandbox_failed',
        message: `your sandbox could not start (${(err as Error).message}); try again`,
      });
      void this.drainQueue();
      throw err;
    } finally {
      this.clock.clearTimeout(ticker?.());
    }
    this.createTimes = [...this.createTimes.slice(-19), this.clock.now() - started];
    const now = this.clock.now();
    const assigned = learnerId ? { assignedAt: new Date(now), lastActiveAt: new Date(now) } : {};
    // Ended while starting (shut down, reset, here or on another replica): its destroy found nothing yet.
    const { count } = this.cache.has(id)
      ? await this.db.sandbox.updateMany({
          where: { id, state: 'creating' },
          data: { state: 'ready', holder: null, ...assigned },
        })
      : { count: 0 };
    if (count === 0) {
      this.cache.delete(id);
      await this.runtime.destroy(id).catch(() => {});
      await this.db.sandbox.deleteMany({ where: { id } }).catch(() => {});
      void this.drainQueue();
      throw new CapacityError('the sandbox was ended while it started');
    }
    entry.phase = 'ready';
    if (learnerId) {
      entry.assignedAt = now;
      entry.lastActiveAt = entry.lastPersistedActivity = now;
      this.publishChanged(entry);
      this.announce(entry);
    }
  }

  /** Progress between "starting engine" and "ready", paced by how long starts have taken lately. */
  private progressTicker(learnerId: string): () => TimerHandle | undefined {
    const started = this.clock.now();
    const expected = Math.max(300, median(this.createTimes) ?? 1000);
    let handle: TimerHandle | undefined;
    const tick = () => {
      const fraction = Math.min(0.95, (this.clock.now() - started) / expected);
      this.emit(learnerId, {
        type: 'progress',
        phase: 'starting-engine',
        percent: Math.round(20 + 75 * fraction),
        message: 'starting engine',
      });
      handle = this.clock.setTimeout(tick, 200);
    };
    handle = this.clock.setTimeout(tick, 200);
    return () => handle;
  }

  /**
   * Warms sandboxes for seats about to be taken (a workshop opening its doors): the pool grows to
   * `count` and shrinks back to its usual size as learners take them (on any replica: it is in the database).
   */
  prewarm(count: number): void {
    void this.track(
      this.locked(async (tx) => {
        const row = await tx.poolTarget.findUnique({ where: { name: PREWARM } });
        if (!row) await tx.poolTarget.create({ data: { name: PREWARM, count } });
        else if (row.count < count) await tx.poolTarget.update({ where: { name: PREWARM }, data: { count } });
      })
        .then(() => this.refill())
        .catch((err) => console.error(`sandbox pool: could not prewarm: ${(err as Error).message}`)),
    );
  }

  /** Gives a learner's sandbox more lifetime (the instructor extended the workshop). */
  extend(learnerId: string, ms: number): void {
    const own = this.ownedBy(learnerId);
    if (own) {
      if (own.assignedAt === null) return;
      own.assignedAt += ms;
      void this.track(this.saveAssignedAt(own));
      return;
    }
    void this.track(
      this.ownRow(learnerId).then((entry) => {
        if (!entry?.assignedAt) return;
        entry.assignedAt += ms;
        return this.saveAssignedAt(entry);
      }),
    );
  }

  private async saveAssignedAt(entry: Entry): Promise<void> {
    await this.db.sandbox
      .updateMany({ where: { id: entry.id }, data: { assignedAt: new Date(entry.assignedAt!) } })
      .catch(() => {});
    this.warned.delete(entry.id);
    this.publishChanged(entry);
    void this.kickLeader();
    this.emit(entry.ownerId, { type: 'state', sandbox: this.view(entry) });
  }

  /**
   * The pool's refill after a warm hand-out. While another warm sandbox is there for the next learner, it
   * waits a little: a new sandbox's start (its engine booting) takes CPU the learner's page, loading now,
   * needs. An empty pool (a class arriving at once) is refilled at once.
   */
  private refillAfterHandOut(): void {
    const warmLeft = [...this.cache.values()].some((e) => e.ownerId === null && e.phase === 'ready');
    this.refillFrom = warmLeft ? this.clock.now() + REFILL_AFTER_HAND_OUT_MS : 0;
    void this.refill();
  }

  /** No refill before this time (refillAfterHandOut); one asked for sooner is done then. */
  private refillFrom = 0;
  private refillTimer: TimerHandle | undefined;

  /** Keeps the pool at its size while there is room and nobody is waiting. Any replica may. */
  private async refillOnce(): Promise<void> {
    if (this.closed) return;
    const wait = this.refillFrom - this.clock.now();
    if (wait > 0) {
      this.refillTimer ??= this.clock.setTimeout(() => {
        this.refillTimer = undefined;
        void this.refill();
      }, wait);
      return;
    }
    const prewarmed = () => this.db.poolTarget.findUnique({ where: { name: PREWARM } });
    if (this.opts.poolSize === 0 && !(await prewarmed())?.count) return; // no pool: no lock
    const ranges = await this.ranges.known();
    const rows = await this.locked(async (tx) => {
      const made: Row[] = [];
      const prewarm = (await tx.poolTarget.findUnique({ where: { name: PREWARM } }))?.count ?? 0;
      const target = Math.max(this.opts.poolSize, prewarm);
      if (target === 0) return made;
      while (
        !this.closed &&
        (await tx.sandbox.count({ where: { ownerId: null } })) < target &&
        (await tx.sandbox.count()) < this.opts.maxSandboxes &&
        (await tx.queueEntry.count()) === 0
      )
        made.push(await tx.sandbox.create({ data: this.newRow(null, null, null, await this.ranges.free(tx, ranges)) }));
      return made;
    });
    for (const row of rows)
      void this.createEntry(this.cache.put(row), null).catch((err) => {
        if (!(err instanceof CapacityError))
          console.error(`sandbox pool: could not create a warm sandbox: ${(err as Error).message}`);
      });
  }

  /** Marks activity (terminal input, API use); keeps the sandbox from the idle timeout. */
  touch(sandboxId: string): void {
    const entry = this.cache.get(sandboxId);
    if (!entry) return;
    entry.lastActiveAt = this.clock.now();
    const due = entry.lastPersistedActivity + ACTIVITY_PERSIST_MS;
    if (entry.lastActiveAt >= due) this.persistActivity(entry);
    else
      entry.persistTimer ??= this.clock.setTimeout(() => {
        entry.persistTimer = undefined;
        if (this.cache.has(entry.id)) this.persistActivity(entry);
      }, due - entry.lastActiveAt);
  }

  /** Writes the latest activity, so the leader's idle reaper (perhaps on another replica) sees it. */
  private persistActivity(entry: Entry): Promise<void> {
    this.clock.clearTimeout(entry.persistTimer);
    entry.persistTimer = undefined;
    entry.lastPersistedActivity = entry.lastActiveAt;
    return this.track(
      this.db.sandbox
        .updateMany({ where: { id: entry.id }, data: { lastActiveAt: new Date(entry.lastActiveAt) } })
        .then(() => {})
        .catch(() => {}),
    );
  }

  /** The leader looks at the deadlines now (after an assignment or an extension on this replica). */
  private kickLeader(): Promise<void> | undefined {
    return this.membership.leading && !this.closed ? this.tick() : undefined;
  }

  /**
   * The leader's round: ends sandboxes past their idle or lifetime end, warns before them, cleans up rows
   * a dead replica left mid-start or mid-end, serves the queue and refills the pool; then sleeps until
   * the next deadline it knows (or tickMs, for ones other replicas made meanwhile).
   */
  private async tickOnce(): Promise<void> {
    if (!this.membership.leading || this.closed) return;
    this.clock.clearTimeout(this.tickTimer);
    const now = this.clock.now();
    let next = now + (this.opts.tickMs ?? DEFAULT_TICK_MS);
    const rows = await this.db.sandbox.findMany();
    let alive: Set<string> | undefined;
    for (const row of rows) {
      if (row.state !== 'ready') {
        if (row.holder && row.holder !== this.replicaId) {
          alive ??= await this.membership.alive();
          if (!alive.has(row.holder)) void this.track(this.abandon(row));
        }
        continue;
      }
      if (!row.ownerId || !row.assignedAt) continue;
      const lastActive = Math.max(row.lastActiveAt.getTime(), this.cache.get(row.id)?.lastActiveAt ?? 0);
      const idleEnd = lastActive + this.opts.idleMs;
      const lifetimeEnd = row.assignedAt.getTime() + this.opts.lifetimeMs;
      // Ended side by side: one slow destroy holds up neither the others nor the round. Each marks its
      // row stopping first, so the next round leaves it alone.
      if (now >= lifetimeEnd) {
        void this.track(this.end(row, 'lifetime'));
        continue;
      }
      if (now >= idleEnd + ACTIVITY_LAG_MS) {
        void this.track(this.end(row, 'idle'));
        continue;
      }
      const warned = this.warned.get(row.id) ?? {};
      this.warned.set(row.id, warned);
      const idleWarnAt = idleEnd - this.opts.warnBeforeMs;
      if (now >= idleWarnAt && warned.idleFor !== lastActive) {
        warned.idleFor = lastActive;
        this.emit(row.ownerId, { type: 'warning', reason: 'idle', at: new Date(idleEnd).toISOString() });
      }
      const lifetimeWarnAt = lifetimeEnd - this.opts.warnBeforeMs;
      if (now >= lifetimeWarnAt && warned.lifetimeAt !== lifetimeEnd) {
        warned.lifetimeAt = lifetimeEnd;
        this.emit(row.ownerId, { type: 'warning', reason: 'lifetime', at: new Date(lifetimeEnd).toISOString() });
      }
      next = Math.min(
        next,
        now < idleWarnAt ? idleWarnAt : idleEnd + ACTIVITY_LAG_MS,
        now < lifetimeWarnAt ? lifetimeWarnAt : lifetimeEnd,
      );
    }
    const ids = new Set(rows.map((r) => r.id));
    for (const id of this.warned.keys()) if (!ids.has(id)) this.warned.delete(id);
    await this.drainQueue();
    await this.refill();
    if (this.membership.leading && !this.closed)
      this.tickTimer = this.clock.setTimeout(() => void this.tick(), Math.max(0, next - this.clock.now()));
  }

  /** A row a dead replica was starting or ending: nobody will finish it, so it goes. */
  private async abandon(row: Row): Promise<void> {
    const { count } = await this.db.sandbox.updateMany({
      where: { id: row.id, state: row.state, holder: row.holder },
      data: { state: 'stopping', holder: this.replicaId },
    });
    if (count === 0) return;
    await this.runtime.destroy(row.id).catch(() => {});
    await this.db.sandbox.deleteMany({ where: { id: row.id } });
    this.forget(row.id);
    this.bus.publish('sandbox.gone', { id: row.id });
    this.emit(row.ownerId, { type: 'ended', sandboxId: row.id, reason: 'lost' });
  }

  /**
   * Destroys a sandbox; the learner's progress stays in the database. Whoever marks the row stopping
   * first ends it, so two replicas (a reset here, the reaper there) never both do.
   */
  private async end(target: { id: string; ownerId: string | null }, reason: EndReason): Promise<void> {
    const { id } = target;
    const ownerId = this.cache.get(id)?.ownerId ?? target.ownerId;
    this.forget(id);
    const row = await this.db.sandbox.findUnique({ where: { id }, select: { state: true } });
    if (!row) return;
    if (row.state === 'stopping') return this.gone(id); // another call or replica is ending it
    // One still starting is destroyed by the replica starting it once its start returns (startEntry), and
    // keeps that replica as its holder, so the leader cleans up if it dies first.
    const starting = row.state === 'creating';
    const { count } = await this.db.sandbox.updateMany({
      where: { id, state: row.state },
      data: starting ? { state: 'stopping' } : { state: 'stopping', holder: this.replicaId },
    });
    if (count === 0) return this.gone(id);
    if (starting) {
      this.bus.publish('sandbox.gone', { id });
      this.emit(ownerId, { type: 'ended', sandboxId: id, reason });
      return this.gone(id);
    }
    try {
      await this.runtime.destroy(id);
    } catch (err) {
      console.error(`sandbox ${id}: destroy failed: ${(err as Error).message}`);
    }
    await this.db.sandbox.deleteMany({ where: { id } }).catch(() => {});
    this.bus.publish('sandbox.gone', { id });
    this.emit(ownerId, { type: 'ended', sandboxId: id, reason });
    void this.drainQueue();
    void this.refill();
  }

  /** Resolves once a sandbox someone else is ending is gone: a release or reset returns when it ended. */
  private async gone(id: string): Promise<void> {
    const until = Date.now() + FOREIGN_START_WAIT_MS;
    while (Date.now() < until && (await this.db.sandbox.count({ where: { id } }))) await sleep(100);
  }

  /**
   * The runtime found a sandbox gone that nobody here ended (a Kubernetes pod deleted or evicted outside
   * Dockside): it ends as lost and its learner is told. Every replica hears it; the first to mark it ends it.
   */
  async lost(sandboxId: string): Promise<void> {
    const row = await this.db.sandbox.findUnique({ where: { id: sandboxId } });
    if (row) await this.end({ id: sandboxId, ownerId: row.ownerId }, 'lost');
  }

  /** Drops a sandbox from this replica's cache (it ended, here or elsewhere). */
  private forget(id: string): void {
    const entry = this.cache.get(id);
    if (!entry) return;
    this.cache.delete(id);
    entry.phase = 'stopping';
    this.clock.clearTimeout(entry.persistTimer);
    for (const l of this.droppedListeners) l(id);
  }

  /**
   * Gives freed capacity to the learners waiting longest, in order, then tells the rest where they stand.
   * Any replica may (the one that freed it, the leader on its round); the lock keeps them in turn.
   */
  private async drainOnce(): Promise<void> {
    if (this.closed) return;
    const waiting = await this.db.queueEntry.findMany({ orderBy: { seq: 'asc' } });
    if (!waiting.length) return;
    const seats = new Map<string, number | null>();
    for (const w of waiting)
      if (w.workshopId && !seats.has(w.workshopId)) seats.set(w.workshopId, await this.opts.seatLimit(w.workshopId));
    const ranges = await this.ranges.known();
    const claims = await this.locked(async (tx) => {
      const out: { learnerId: string; claim: Claim }[] = [];
      for (const w of await tx.queueEntry.findMany({ orderBy: { seq: 'asc' } })) {
        // A workshop that joined the queue since: its seats are looked up on the next round.
        if (w.workshopId && !seats.has(w.workshopId)) continue;
        if (!(await this.capacity.fits(tx, w.workshopId, w.workshopId ? seats.get(w.workshopId)! : null))) continue;
        await tx.queueEntry.delete({ where: { seq: w.seq } });
        if (await tx.sandbox.findFirst({ where: { ownerId: w.learnerId, state: { not: 'stopping' } } })) continue;
        const claim = await this.claim(tx, w.learnerId, w.workshopId, w.address, async () => ranges);
        out.push({ learnerId: w.learnerId, claim });
      }
      return out;
    });
    for (const { learnerId, claim } of claims) this.finish(learnerId, claim).catch(() => {});
    if (!claims.length) return;
    const rest = await this.db.queueEntry.findMany({ orderBy: { seq: 'asc' } });
    for (const w of rest)
      this.emit(w.learnerId, { type: 'queue', ...(await this.capacity.queuePosition(this.db, w.seq)) });
  }

  /**
   * Destroy and start fresh (the learner or their instructor asked), placed as a first start is: the
   * caller resolves the placement (engine.ts), never the old sandbox, which a learner may not have.
   */
  async reset(learnerId: string, placement: Placement = SELF_PACED): Promise<EnsureResult> {
    const own = this.ownedBy(learnerId) ?? (await this.ownRow(learnerId));
    if (!own) return this.ensure(learnerId, placement);
    // Charged before anything is destroyed: a refused reset leaves the sandbox as it was.
    await placement.charge?.();
    await this.end(own, 'reset');
    return this.ensure(learnerId, { ...placement, charge: undefined });
  }

  /** Ends a learner's sandbox (e.g. the workshop ended); their progress stays. */
  async release(learnerId: string): Promise<void> {
    await this.db.queueEntry.deleteMany({ where: { learnerId } });
    const own = await this.db.sandbox.findFirst({ where: { ownerId: learnerId, state: { not: 'stopping' } } });
    if (own) await this.end(own, 'released');
  }

  /**
   * Stops the timers and leaves the cluster. Unless sandboxes are kept for the next start, the last
   * replica destroys every sandbox; one with others still running leaves theirs (and its own) to them.
   */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const off of this.unsubscribe) off();
    this.clock.clearTimeout(this.tickTimer);
    this.clock.clearTimeout(this.leaseTimer);
    const others = [...(await this.membership.alive().catch(() => new Set<string>()))].filter(
      (id) => id !== this.replicaId,
    );
    await this.membership.stop();
    // The latest activity, for whoever serves these sandboxes next.
    await Promise.all(
      [...this.cache.values()]
        .filter((e) => e.lastActiveAt > e.lastPersistedActivity)
        .map((e) => this.persistActivity(e)),
    );
    if (this.opts.keepOnShutdown || others.length > 0) {
      for (const e of this.cache.values()) this.clock.clearTimeout(e.persistTimer);
      return;
    }
    // Starts still running end as they finish (their entry is gone).
    for (const e of [...this.cache.values()]) if (e.phase !== 'ready') this.cache.delete(e.id);
    const rows = await this.db.sandbox.findMany({ where: { state: 'ready' } });
    await Promise.all(rows.map((r) => this.end(r, 'shutdown')));
    await Promise.allSettled([...this.inFlight]);
    this.leases?.release();
  }

  ownedBy(learnerId: string): Entry | undefined {
    return this.cache.ownedBy(learnerId);
  }

  /** The learner's ready sandbox from the database (another replica may have started it), now cached. */
  private async ownRow(learnerId: string): Promise<Entry | undefined> {
    const row = await this.db.sandbox.findFirst({ where: { ownerId: learnerId, state: 'ready' } });
    return row ? this.cache.put(row) : undefined;
  }

  /** The owner of a sandbox, for authorisation; undefined when this replica does not know it running. */
  ownerOf(sandboxId: string): string | null | undefined {
    return this.cache.get(sandboxId)?.ownerId;
  }

  /**
   * ownerOf, asking the database when this replica does not know the sandbox (another replica handed it
   * out) or knows it warm (one may have handed it out since); for callers that can wait.
   */
  async lookupOwner(sandboxId: string): Promise<string | null | undefined> {
    const known = this.cache.get(sandboxId);
    if (known?.ownerId) return known.ownerId;
    const row = await this.db.sandbox.findUnique({ where: { id: sandboxId } });
    if (row?.state === 'ready') return this.cache.put(row).ownerId;
    return this.cache.get(sandboxId)?.ownerId;
  }

  /** viewFor, asking the database when this replica does not know the learner's sandbox. */
  async lookupView(learnerId: string): Promise<SandboxView | null> {
    const own = this.ownedBy(learnerId) ?? (await this.ownRow(learnerId));
    return own ? this.view(own) : null;
  }

  sandboxes(): { id: string; ownerId: string | null; workshopId: string | null; phase: SandboxPhase }[] {
    return [...this.cache.values()].map(({ id, ownerId, workshopId, phase }) => ({ id, ownerId, workshopId, phase }));
  }

  view(entry: Entry, ports: { port: number; container: string }[] = []): SandboxView {
    return {
      id: entry.id,
      phase: entry.phase,
      expiresAt: new Date((entry.assignedAt ?? entry.createdAt) + this.opts.lifetimeMs).toISOString(),
      idleUntil: new Date(entry.lastActiveAt + this.opts.idleMs).toISOString(),
      ports: ports.map((p) => ({ ...p, url: this.opts.previewUrl?.(entry.id, p.port) ?? '' })),
    };
  }

  viewById(sandboxId: string, ports: { port: number; container: string }[] = []): SandboxView | null {
    const entry = this.cache.get(sandboxId);
    return entry ? this.view(entry, ports) : null;
  }

  viewFor(learnerId: string): SandboxView | null {
    const own = this.ownedBy(learnerId);
    return own ? this.view(own) : null;
  }

  /** Whom a sandbox is for, where the runtime records it (pod labels on Kubernetes); best effort. */
  private label(entry: Entry): void {
    void this.runtime.label?.(entry.id, { owner: entry.ownerId, workshop: entry.workshopId }).catch(() => {});
  }

  /** Tells the other replicas a sandbox's owner, workshop or lifetime changed. */
  private publishChanged(entry: Entry): void {
    this.label(entry);
    this.bus.publish('sandbox.changed', changedOf(entry));
  }
}

/** A pause in real time: waiting on another replica's database writes, whatever the manager's clock. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
