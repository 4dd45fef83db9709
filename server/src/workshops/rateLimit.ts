// Attempt counting per key (an address, an email): a fixed window, enough to stop guessing, and a
// steadily refilling budget. The counts are in the database, so every replica of one server shares them.
import type { Db } from '../db/client';

// The counters are RateCounter rows, each changed by a conditional update of the values it was read with
// (compare and swap), so two replicas counting the same key at once never lose an attempt.

type Counter = { start: number; count: number };

/** One limiter's rows; `step` turns a counter (null: none yet) into the next one (null: write nothing). */
class SharedCounters {
  /** This process's changes one after another: contention is between replicas only. */
  private chain: Promise<unknown> = Promise.resolve();
  private writes = 0;

  constructor(
    private readonly db: Db,
    private readonly limiter: string,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  update(
    key: string,
    step: (c: Counter | null, t: number) => { next: Counter | null; result: number },
  ): Promise<number> {
    const run = this.chain.then(() => this.swap(key, step));
    this.chain = run.catch(() => {});
    return run;
  }

  private async swap(
    key: string,
    step: (c: Counter | null, t: number) => { next: Counter | null; result: number },
  ): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const t = this.now();
      const row = await this.read(key);
      const { next, result } = step(row && { start: row.windowStart.getTime(), count: row.count }, t);
      if (!next) return result;
      const data = { windowStart: new Date(next.start), count: next.count };
      if (!row) {
        try {
          await this.db.rateCounter.create({ data: { limiter: this.limiter, key, ...data } });
        } catch {
          continue; // another replica counted the first attempt this moment: count again on its row
        }
      } else {
        const { count } = await this.db.rateCounter.updateMany({
          where: { limiter: this.limiter, key, windowStart: row.windowStart, count: row.count },
          data,
        });
        if (count === 0) continue;
      }
      if (++this.writes % 1000 === 0) await this.prune(t);
      return result;
    }
    throw new Error(`rate limit ${this.limiter}: the counter of ${key} kept changing under us`);
  }

  read(key: string) {
    return this.db.rateCounter.findUnique({ where: { limiter_key: { limiter: this.limiter, key } } });
  }

  async reset(key: string): Promise<void> {
    await this.db.rateCounter.deleteMany({ where: { limiter: this.limiter, key } });
  }

  /** Rows older than a window count nothing any more (an ended window, a full bucket). */
  private async prune(t: number): Promise<void> {
    await this.db.rateCounter.deleteMany({
      where: { limiter: this.limiter, windowStart: { lt: new Date(t - this.windowMs) } },
    });
  }
}

/** At most `max` attempts per key in each fixed window (`limiter` names its rows). */
export class SharedRateLimiter {
  private readonly counters: SharedCounters;

  constructor(
    db: Db,
    limiter: string,
    private readonly max: number,
    private readonly windowMs: number,
    now: () => number = Date.now,
  ) {
    this.counters = new SharedCounters(db, limiter, windowMs, now);
  }

  /** Counts an attempt; resolves to the seconds to wait when over the limit, else 0. */
  hit(key: string): Promise<number> {
    return this.counters.update(key, (c, t) => {
      const next = !c || t - c.start >= this.windowMs ? { start: t, count: 1 } : { start: c.start, count: c.count + 1 };
      return { next, result: next.count > this.max ? Math.ceil((next.start + this.windowMs - t) / 1000) : 0 };
    });
  }

  /** The seconds to wait if the next attempt would be over the limit, else 0; counts nothing. */
  blocked(key: string): Promise<number> {
    return this.counters.update(key, (c, t) => ({
      next: null,
      result:
        !c || t - c.start >= this.windowMs || c.count < this.max ? 0 : Math.ceil((c.start + this.windowMs - t) / 1000),
    }));
  }

  reset(key: string): Promise<void> {
    return this.counters.reset(key);
  }
}

/**
 * A budget per key that refills steadily: `max` at once, then one more every `windowMs / max` — so a client
 * that spent it waits minutes, not a whole window. The row's window start is when it was last taken from.
 */
export class SharedTokenBucket {
  private readonly counters: SharedCounters;

  constructor(
    db: Db,
    limiter: string,
    private readonly max: number,
    private readonly windowMs: number,
    now: () => number = Date.now,
  ) {
    this.counters = new SharedCounters(db, limiter, windowMs, now);
  }

  /** Takes one; resolves to 0, or the seconds until one is there (nothing is taken then). */
  take(key: string): Promise<number> {
    return this.counters.update(key, (c, t) => {
      const tokens = c ? Math.min(this.max, c.count + ((t - c.start) * this.max) / this.windowMs) : this.max;
      if (tokens < 1)
        return { next: null, result: Math.max(1, Math.ceil(((1 - tokens) * this.windowMs) / this.max / 1000)) };
      return { next: { start: t, count: tokens - 1 }, result: 0 };
    });
  }
}
