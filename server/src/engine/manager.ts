// The sandbox manager: one sandbox per learner, a warm pool so starting feels instant, a global and a
// per-workshop capacity with a queue, idle and lifetime limits, and reconciliation after a restart.
// All state changes go through here; the database records ownership so a restart loses nothing.
import { randomBytes } from 'node:crypto';
import { median, type SandboxPhase, type SandboxView } from '@dockside/protocol';
import type { Db } from '../db/client';
import { AdmissionError } from './admission';
import type { Clock, TimerHandle } from './clock';
import { LEASE_RENEW_MS, Leases } from './leases';
import type { Runtime, SandboxLimits } from './runtime';

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
   * beside `npm start`); at start each destroys only the orphans with its own prefix.
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
};

export type ManagerEvent =
  | { type: 'progress'; phase: SandboxPhase; percent: number; message: string }
  | { type: 'state'; sandbox: SandboxView }
  | { type: 'queue'; position: number; estimateSeconds: number }
  | { type: 'warning'; reason: 'idle' | 'lifetime'; at: string }
  | { type: 'ended'; sandboxId: string; reason: 'idle' | 'lifetime' | 'reset' | 'lost' | 'shutdown' | 'released' }
  | { type: 'error'; code: string; message: string };

type Entry = {
  id: string;
  range: number;
  ownerId: string | null;
  workshopId: string | null;
  /** The client address it was started for (in memory only: re-adopted sandboxes have none). */
  address: string | null;
  phase: SandboxPhase;
  createdAt: number;
  assignedAt: number | null;
  lastActiveAt: number;
  lastPersistedActivity: number;
  idleTimer?: TimerHandle;
  lifetimeTimer?: TimerHandle;
  warnedIdle?: boolean;
};

type Waiter = { learnerId: string; workshopId: string | null; address: string | null; since: number };

export type EnsureResult = { sandbox: SandboxView } | { queued: { position: number; estimateSeconds: number } };

/**
 * Where a learner's sandbox belongs and who asked, for the one seat policy every start goes through:
 * a workshop's sandboxes count against its seats, a self-paced one against its address, all of them
 * against the machine. `charge` counts the start against the asker's budget (admission.ts) and throws
 * when it is spent; it is called only when a start really happens.
 */
export type Placement = { workshopId: string | null; address: string | null; charge?: () => void };

const SELF_PACED: Placement = { workshopId: null, address: null };

export class CapacityError extends Error {}

const ACTIVITY_PERSIST_MS = 60_000;

export class SandboxManager {
  private entries = new Map<string, Entry>();
  private queue: Waiter[] = [];
  private starting = new Map<string, Promise<Entry>>(); // by learner
  private createTimes: number[] = [];
  /** Id ranges the runtime refused because something on this host has those ids. */
  private hostRanges = new Set<number>();
  private closed = false;
  private inFlight = new Set<Promise<void>>();
  private leases: Leases | undefined;
  private leaseTimer: TimerHandle | undefined;
  private prewarmTarget = 0;
  private listeners = new Set<(learnerId: string, event: ManagerEvent) => void>();

  constructor(
    private readonly db: Db,
    private readonly runtime: Runtime,
    private readonly clock: Clock,
    private readonly opts: ManagerOptions,
  ) {}

  /** Every event for a learner; the realtime layer forwards them to that learner's sockets. */
  subscribe(listener: (learnerId: string, event: ManagerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(learnerId: string | null, event: ManagerEvent): void {
    if (!learnerId) return;
    for (const l of this.listeners) l(learnerId, event);
  }

  /** Re-adopts sandboxes that survived a restart, destroys orphans, then fills the pool. */
  async start(): Promise<{ adopted: string[]; orphans: string[]; lost: string[]; abandoned: string[] }> {
    const [rows, live] = await Promise.all([this.db.sandbox.findMany(), this.runtime.list()]);
    const running = new Map(live.filter((s) => s.running).map((s) => [s.id, s]));
    const adopted: string[] = [];
    const lost: string[] = [];
    for (const row of rows) {
      if (running.has(row.id) && row.state === 'ready') {
        const entry: Entry = {
          id: row.id,
          range: row.idRange,
          ownerId: row.ownerId,
          workshopId: row.workshopId,
          address: null,
          phase: 'ready',
          createdAt: row.createdAt.getTime(),
          assignedAt: row.assignedAt?.getTime() ?? null,
          lastActiveAt: row.lastActiveAt.getTime(),
          lastPersistedActivity: row.lastActiveAt.getTime(),
        };
        this.entries.set(row.id, entry);
        this.arm(entry);
        adopted.push(row.id);
      } else {
        lost.push(row.id);
        await this.db.sandbox.delete({ where: { id: row.id } }).catch(() => {});
        await this.runtime.destroy(row.id).catch(() => {});
        this.emit(row.ownerId, { type: 'ended', sandboxId: row.id, reason: 'lost' });
      }
    }
    const known = new Set(rows.map((r) => r.id));
    const prefix = this.opts.idPrefix ?? 'sb-';
    const orphans = live.filter((s) => s.id.startsWith(prefix) && !known.has(s.id)).map((s) => s.id);
    for (const id of orphans) await this.runtime.destroy(id).catch(() => {});
    const abandoned = this.opts.leaseDir ? this.sweepAbandoned(live.filter((s) => !known.has(s.id))) : [];
    for (const id of abandoned) await this.runtime.destroy(id).catch(() => {});
    this.refill();
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
    const queued = this.queue.findIndex((w) => w.learnerId === learnerId);
    if (queued >= 0) return { queued: this.queuePosition(queued) };

    const { workshopId, address } = placement;
    const seats = workshopId ? await this.opts.seatLimit(workshopId) : null;
    // From here to the claim nothing awaits, so two learners can never take the same last seat, and one
    // learner asking twice at once (two tabs, a reset) neither starts twice nor waits twice in the queue.
    if (this.ownedBy(learnerId) || this.starting.has(learnerId) || this.queue.some((w) => w.learnerId === learnerId))
      return this.ensure(learnerId, placement);
    this.admit(placement);
    if (!this.fits(workshopId, seats)) {
      this.queue.push({ learnerId, workshopId, address, since: this.clock.now() });
      const position = this.queuePosition(this.queue.length - 1);
      this.emit(learnerId, { type: 'queue', ...position });
      return { queued: position };
    }
    const entry = await this.startFor(learnerId, workshopId, address);
    return { sandbox: this.view(entry) };
  }

  /**
   * The limits of the asker (not of the machine, which queues): a self-paced address's sandboxes at once,
   * then their budget of starts. Synchronous, with the claim right after it.
   */
  private admit({ workshopId, address, charge }: Placement): void {
    const cap = this.opts.sandboxesPerAddress;
    if (!workshopId && address !== null && cap !== undefined) {
      const mine = [...this.entries.values()].filter((e) => e.workshopId === null && e.address === address);
      const waiting = this.queue.filter((w) => w.workshopId === null && w.address === address).length;
      if (mine.length + waiting >= cap) {
        // When the first of them ends at the latest, unless it is kept busy.
        const now = this.clock.now();
        const ends = mine.map((e) =>
          Math.min(e.lastActiveAt + this.opts.idleMs, (e.assignedAt ?? e.createdAt) + this.opts.lifetimeMs),
        );
        const retryAfter = Math.max(1, Math.ceil(((ends.length ? Math.min(...ends) : now + 60_000) - now) / 1000));
        throw new AdmissionError(
          'address_limit',
          `${cap} sandboxes are already running for your network; try again when one ends, or join your class's workshop with its code`,
          retryAfter,
        );
      }
    }
    charge?.();
  }

  /** A running sandbox follows its learner into (or out of) a workshop: it counts where they are now. */
  private moveTo(entry: Entry, { workshopId, address }: Placement): void {
    entry.address ??= address;
    if (entry.workshopId === workshopId) return;
    entry.workshopId = workshopId;
    void this.db.sandbox.update({ where: { id: entry.id }, data: { workshopId } }).catch(() => {});
  }

  private fits(workshopId: string | null, seats: number | null): boolean {
    if (workshopId && seats !== null) {
      const used = [...this.entries.values()].filter((e) => e.workshopId === workshopId).length;
      if (used >= seats) return false;
    }
    // A warm sandbox is already counted; taking it never exceeds the limit.
    return this.poolEntry() !== undefined || this.entries.size < this.opts.maxSandboxes;
  }

  /** Claims a warm sandbox or a slot for a new one synchronously, then finishes asynchronously. */
  private startFor(learnerId: string, workshopId: string | null, address: string | null): Promise<Entry> {
    const warm = this.poolEntry();
    let work: Promise<Entry>;
    if (warm) {
      this.prewarmTarget = Math.max(0, this.prewarmTarget - 1);
      warm.ownerId = learnerId;
      warm.workshopId = workshopId;
      warm.address = address;
      work = this.assign(warm, learnerId, workshopId).then(() => {
        this.refill();
        return warm;
      });
    } else {
      const entry = this.newEntry(workshopId, address);
      work = this.createEntry(entry, learnerId).then(async () => {
        await this.assign(entry, learnerId, workshopId);
        return entry;
      });
    }
    this.starting.set(learnerId, work);
    return work.finally(() => this.starting.delete(learnerId));
  }

  private async assign(entry: Entry, learnerId: string, workshopId: string | null): Promise<void> {
    const now = this.clock.now();
    entry.ownerId = learnerId;
    entry.workshopId = workshopId;
    entry.assignedAt = now;
    entry.lastActiveAt = now;
    entry.lastPersistedActivity = now;
    await this.db.sandbox.update({
      where: { id: entry.id },
      data: { ownerId: learnerId, workshopId, assignedAt: new Date(now), lastActiveAt: new Date(now) },
    });
    this.arm(entry);
    this.emit(learnerId, { type: 'progress', phase: 'ready', percent: 100, message: 'ready' });
    this.emit(learnerId, { type: 'state', sandbox: this.view(entry) });
  }

  /** A new entry, counted against capacity (and its workshop or address) from this moment. */
  private newEntry(workshopId: string | null, address: string | null): Entry {
    const now = this.clock.now();
    const entry: Entry = {
      id: `${this.opts.idPrefix ?? 'sb-'}${randomBytes(6).toString('hex')}`,
      range: 0,
      ownerId: null,
      workshopId,
      address,
      phase: 'allocating',
      createdAt: now,
      assignedAt: null,
      lastActiveAt: now,
      lastPersistedActivity: now,
    };
    this.entries.set(entry.id, entry);
    return entry;
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
      entry.range = await this.reserveRange(id);
      entry.phase = 'starting-engine';
      this.emit(learnerId, { type: 'progress', phase: 'starting-engine', percent: 20, message: 'starting engine' });
      ticker = learnerId ? this.progressTicker(learnerId) : undefined;
      await this.createInFreeRange(entry);
      await this.opts.prepareSandbox?.(this.runtime, id);
    } catch (err) {
      this.entries.delete(id);
      await this.db.sandbox.delete({ where: { id } }).catch(() => {});
      if (entry.range) await this.runtime.destroy(id).catch(() => {});
      this.emit(learnerId, {
        type: 'error',
        code: 'sandbox_failed',
        message: `your sandbox could not start (${(err as Error).message}); try again`,
      });
      this.drainQueue();
      throw err;
    } finally {
      this.clock.clearTimeout(ticker?.());
    }
    this.createTimes = [...this.createTimes.slice(-19), this.clock.now() - started];
    if (!this.entries.has(id)) {
      // Ended (shut down, reset) while starting: its destroy found nothing yet, so it goes now.
      await this.runtime.destroy(id).catch(() => {});
      await this.db.sandbox.delete({ where: { id } }).catch(() => {});
      return;
    }
    entry.phase = 'ready';
    await this.db.sandbox.update({ where: { id }, data: { state: 'ready' } });
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
   * Creates the sandbox in its reserved range, moving to another when the runtime finds the range taken
   * on this host (an /etc/subuid allocation, a user or a process with those ids).
   */
  private async createInFreeRange(entry: Entry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.runtime.create(entry.id, entry.range, this.opts.limits);
      } catch (err) {
        const taken = (err as { kind?: string }).kind === 'exists' && /id range/.test((err as Error).message);
        if (!taken || attempt >= 20) throw err;
        this.hostRanges.add(entry.range);
        await this.db.sandbox.delete({ where: { id: entry.id } });
        entry.range = await this.reserveRange(entry.id);
      }
    }
  }

  /**
   * The smallest free id range, recorded in the database (a unique column) so two never overlap. Ranges of
   * live sandboxes this database does not know (another server on the same data dir) are taken too.
   */
  private async reserveRange(id: string): Promise<number> {
    const max = this.opts.maxRange ?? 16_383;
    for (let attempt = 0; attempt < 5; attempt++) {
      const [rows, live] = await Promise.all([
        this.db.sandbox.findMany({ select: { idRange: true } }),
        this.runtime.list(),
      ]);
      const used = new Set([...rows.map((r) => r.idRange), ...live.map((s) => s.range), ...this.hostRanges]);
      let range = 1;
      while (used.has(range)) range++;
      if (range > max) throw new CapacityError('no free id range');
      try {
        await this.db.sandbox.create({
          data: {
            id,
            idRange: range,
            state: 'creating',
            memoryBytes: BigInt(this.opts.limits.memoryBytes),
            pidsLimit: this.opts.limits.pids,
            cpus: this.opts.limits.cpus,
            diskBytes: BigInt(this.opts.limits.diskBytes),
            createdAt: new Date(this.clock.now()),
            lastActiveAt: new Date(this.clock.now()),
          },
        });
        return range;
      } catch {
        // Another create took the same range at the same moment: look again.
      }
    }
    throw new CapacityError('could not reserve an id range');
  }

  /**
   * Warms sandboxes for seats about to be taken (a workshop opening its doors): the pool grows to
   * `count` and shrinks back to its usual size as learners take them.
   */
  prewarm(count: number): void {
    this.prewarmTarget = Math.max(this.prewarmTarget, count);
    this.refill();
  }

  /** Gives a learner's sandbox more lifetime (the instructor extended the workshop). */
  extend(learnerId: string, ms: number): void {
    const own = this.ownedBy(learnerId);
    if (!own || own.assignedAt === null) return;
    own.assignedAt += ms;
    void this.db.sandbox
      .update({ where: { id: own.id }, data: { assignedAt: new Date(own.assignedAt) } })
      .catch(() => {});
    this.arm(own);
    this.emit(own.ownerId, { type: 'state', sandbox: this.view(own) });
  }

  /** Keeps the pool at its size while there is room and nobody is waiting. */
  private refill(): void {
    while (
      !this.closed &&
      this.poolCount() < Math.max(this.opts.poolSize, this.prewarmTarget) &&
      this.entries.size < this.opts.maxSandboxes &&
      this.queue.length === 0
    ) {
      const entry = this.newEntry(null, null);
      void this.createEntry(entry, null).catch((err) =>
        console.error(`sandbox pool: could not create a warm sandbox: ${(err as Error).message}`),
      );
    }
  }

  /** Marks activity (terminal input, API use); keeps the sandbox from the idle timeout. */
  touch(sandboxId: string): void {
    const entry = this.entries.get(sandboxId);
    if (!entry) return;
    entry.lastActiveAt = this.clock.now();
    entry.warnedIdle = false;
    if (entry.lastActiveAt - entry.lastPersistedActivity >= ACTIVITY_PERSIST_MS) {
      entry.lastPersistedActivity = entry.lastActiveAt;
      void this.db.sandbox
        .update({ where: { id: sandboxId }, data: { lastActiveAt: new Date(entry.lastActiveAt) } })
        .catch(() => {});
    }
  }

  private arm(entry: Entry): void {
    this.clock.clearTimeout(entry.idleTimer);
    this.clock.clearTimeout(entry.lifetimeTimer);
    if (entry.ownerId === null || entry.assignedAt === null) return;
    const checkIdle = () => {
      if (!this.entries.has(entry.id)) return;
      const now = this.clock.now();
      const end = entry.lastActiveAt + this.opts.idleMs;
      if (now >= end) return void this.end(entry, 'idle');
      const warnAt = end - this.opts.warnBeforeMs;
      if (now >= warnAt && !entry.warnedIdle) {
        entry.warnedIdle = true;
        this.emit(entry.ownerId, { type: 'warning', reason: 'idle', at: new Date(end).toISOString() });
      }
      entry.idleTimer = this.clock.setTimeout(checkIdle, (now >= warnAt ? end : warnAt) - now);
    };
    checkIdle();
    const lifetimeEnd = entry.assignedAt + this.opts.lifetimeMs;
    const checkLifetime = () => {
      if (!this.entries.has(entry.id)) return;
      const now = this.clock.now();
      if (now >= lifetimeEnd) return void this.end(entry, 'lifetime');
      const warnAt = lifetimeEnd - this.opts.warnBeforeMs;
      if (now >= warnAt)
        this.emit(entry.ownerId, { type: 'warning', reason: 'lifetime', at: new Date(lifetimeEnd).toISOString() });
      entry.lifetimeTimer = this.clock.setTimeout(checkLifetime, (now >= warnAt ? lifetimeEnd : warnAt) - now);
    };
    checkLifetime();
  }

  /** Destroys a sandbox; the learner's progress stays in the database. */
  private async end(entry: Entry, reason: Extract<ManagerEvent, { type: 'ended' }>['reason']): Promise<void> {
    if (!this.entries.has(entry.id)) return;
    this.entries.delete(entry.id);
    this.clock.clearTimeout(entry.idleTimer);
    this.clock.clearTimeout(entry.lifetimeTimer);
    entry.phase = 'stopping';
    try {
      await this.runtime.destroy(entry.id);
    } catch (err) {
      console.error(`sandbox ${entry.id}: destroy failed: ${(err as Error).message}`);
    }
    await this.db.sandbox.delete({ where: { id: entry.id } }).catch(() => {});
    this.emit(entry.ownerId, { type: 'ended', sandboxId: entry.id, reason });
    this.drainQueue();
    this.refill();
  }

  /** Gives freed capacity to the learners waiting longest, in order, then tells the rest where they stand. */
  private drainQueue(): void {
    if (this.closed) return;
    void (async () => {
      const seats = new Map<string, number | null>();
      for (const w of this.queue)
        if (w.workshopId && !seats.has(w.workshopId)) seats.set(w.workshopId, await this.opts.seatLimit(w.workshopId));
      for (let i = 0; i < this.queue.length;) {
        const waiter = this.queue[i]!;
        if (!this.fits(waiter.workshopId, waiter.workshopId ? (seats.get(waiter.workshopId) ?? null) : null)) {
          i++;
          continue;
        }
        this.queue.splice(i, 1);
        this.startFor(waiter.learnerId, waiter.workshopId, waiter.address).catch(() => {});
      }
      this.queue.forEach((w, i) => this.emit(w.learnerId, { type: 'queue', ...this.queuePosition(i) }));
      this.refill();
    })();
  }

  /** Position (1-based) and an estimate: when the n-th soonest ending sandbox ends, plus a start. */
  private queuePosition(index: number): { position: number; estimateSeconds: number } {
    const now = this.clock.now();
    const ends = [...this.entries.values()]
      .filter((e) => e.assignedAt !== null)
      .map((e) => Math.min(e.lastActiveAt + this.opts.idleMs, e.assignedAt! + this.opts.lifetimeMs))
      .sort((a, b) => a - b);
    const freeAt = ends[Math.min(index, ends.length - 1)] ?? now;
    const startMs = median(this.createTimes) ?? 1000;
    return { position: index + 1, estimateSeconds: Math.max(1, Math.ceil((freeAt - now + startMs) / 1000)) };
  }

  /**
   * Destroy and start fresh (the learner or their instructor asked), placed as a first start is: the
   * caller resolves the placement (engine.ts), never the old sandbox, which a learner may not have.
   */
  async reset(learnerId: string, placement: Placement = SELF_PACED): Promise<EnsureResult> {
    const own = this.ownedBy(learnerId);
    if (!own) return this.ensure(learnerId, placement);
    // Charged before anything is destroyed: a refused reset leaves the sandbox as it was.
    placement.charge?.();
    await this.end(own, 'reset');
    return this.ensure(learnerId, { ...placement, charge: undefined });
  }

  /** Ends a learner's sandbox (e.g. the workshop ended); their progress stays. */
  async release(learnerId: string): Promise<void> {
    const own = this.ownedBy(learnerId);
    if (own) await this.end(own, 'released');
    this.queue = this.queue.filter((w) => w.learnerId !== learnerId);
  }

  /** Stops the timers; destroys every sandbox unless they are to be kept for the next start. */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const e of this.entries.values()) {
      this.clock.clearTimeout(e.idleTimer);
      this.clock.clearTimeout(e.lifetimeTimer);
    }
    this.clock.clearTimeout(this.leaseTimer);
    if (this.opts.keepOnShutdown) return;
    await Promise.all([...this.entries.values()].map((e) => this.end(e, 'shutdown')));
    await Promise.allSettled([...this.inFlight]);
    this.leases?.release();
  }

  ownedBy(learnerId: string): Entry | undefined {
    for (const e of this.entries.values()) if (e.ownerId === learnerId && e.phase === 'ready') return e;
    return undefined;
  }

  /** The owner of a sandbox, for authorisation; undefined when it is not running. */
  ownerOf(sandboxId: string): string | null | undefined {
    return this.entries.get(sandboxId)?.ownerId;
  }

  sandboxes(): { id: string; ownerId: string | null; workshopId: string | null; phase: SandboxPhase }[] {
    return [...this.entries.values()].map(({ id, ownerId, workshopId, phase }) => ({ id, ownerId, workshopId, phase }));
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
    const entry = this.entries.get(sandboxId);
    return entry ? this.view(entry, ports) : null;
  }

  viewFor(learnerId: string): SandboxView | null {
    const own = this.ownedBy(learnerId);
    return own ? this.view(own) : null;
  }

  private poolEntry(): Entry | undefined {
    for (const e of this.entries.values()) if (e.ownerId === null && e.phase === 'ready') return e;
    return undefined;
  }

  private poolCount(): number {
    return [...this.entries.values()].filter((e) => e.ownerId === null).length;
  }
}
