// Fixed-window attempt counting per key (an address, an email): enough to stop guessing, kept in memory.

export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts an attempt; returns the seconds to wait when over the limit, else 0. */
  hit(key: string): number {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      w = { start: t, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.prune(t);
    }
    w.count++;
    return w.count > this.max ? Math.ceil((w.start + this.windowMs - t) / 1000) : 0;
  }

  /** The seconds to wait if the next attempt would be over the limit, else 0; counts nothing. */
  blocked(key: string): number {
    const t = this.now();
    const w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs || w.count < this.max) return 0;
    return Math.ceil((w.start + this.windowMs - t) / 1000);
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private prune(t: number): void {
    for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
  }
}

/**
 * A budget per key that refills steadily: `max` at once, then one more every `windowMs / max` — so a client
 * that spent it waits minutes, not a whole window, and one that keeps asking never gets more than the rate.
 * Kept in memory; a client that comes back after a full refill starts afresh.
 */
export class TokenBucket {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 50_000,
  ) {}

  private level(key: string, t: number): number {
    const b = this.buckets.get(key);
    if (!b) return this.max;
    return Math.min(this.max, b.tokens + ((t - b.at) * this.max) / this.windowMs);
  }

  /** Takes one; returns 0, or the seconds until one is there (nothing is taken then). */
  take(key: string): number {
    const t = this.now();
    const tokens = this.level(key, t);
    if (tokens < 1) return Math.max(1, Math.ceil(((1 - tokens) * this.windowMs) / this.max / 1000));
    this.buckets.delete(key); // re-inserted last: the map stays in order of use
    this.buckets.set(key, { tokens: tokens - 1, at: t });
    if (this.buckets.size > this.maxKeys) this.prune(t);
    return 0;
  }

  /** Forgets full buckets; past maxKeys even so, the least recently used (they get a full budget back). */
  private prune(t: number): void {
    for (const [k] of this.buckets) if (this.level(k, t) >= this.max) this.buckets.delete(k);
    for (const [k] of this.buckets) {
      if (this.buckets.size <= this.maxKeys * 0.9) break;
      this.buckets.delete(k);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
