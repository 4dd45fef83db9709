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
