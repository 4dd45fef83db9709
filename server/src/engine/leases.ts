// Which server a sandbox belongs to, for sandboxes no database knows any more. Sandboxes outlive their
// server on purpose (a restart adopts them), so a sandbox whose server is not running is not yet an
// orphan. Each server keeps a lease file for its id prefix in the shared data dir, renewed while it runs;
// a lease lasts one sandbox lifetime past its last renewal, since no sandbox may outlive that anyway.
// A sandbox whose lease lapsed belonged to a server that is gone for good (a test's, a deleted
// database's): any server may destroy it. One with no lease at all was left by a server that released
// its prefix (it ended its sandboxes; this one stayed behind) and is destroyed once it is ten minutes old.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

type Lease = { pid: number; renewedAt: number; lifetimeMs: number };

export const LEASE_RENEW_MS = 60_000;
/** A sandbox younger than this is never anyone's to destroy: its server may be starting up. */
const GRACE_MS = 10 * 60_000;

export class Leases {
  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly lifetimeMs: number,
  ) {}

  private file(prefix: string): string {
    return path.join(this.dir, `${prefix.replace(/[^a-z0-9-]/g, '')}.json`);
  }

  /** Records that this server holds its prefix, as of `now`. */
  renew(now: number): void {
    mkdirSync(this.dir, { recursive: true });
    const lease: Lease = { pid: process.pid, renewedAt: now, lifetimeMs: this.lifetimeMs };
    const tmp = `${this.file(this.prefix)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(lease));
    renameSync(tmp, this.file(this.prefix));
  }

  /** This server ended its sandboxes: nothing of its prefix is waiting for it. */
  release(): void {
    rmSync(this.file(this.prefix), { force: true });
  }

  /** Whether a sandbox of another server's prefix, made at `createdAt`, has nobody left to come back for it. */
  abandoned(id: string, createdAt: number, now: number): boolean {
    const prefix = /^([a-z]+-[0-9a-f]+-)/.exec(id)?.[1];
    if (!prefix || prefix === this.prefix || now - createdAt < GRACE_MS) return false;
    let lease: Lease;
    try {
      lease = JSON.parse(readFileSync(this.file(prefix), 'utf8')) as Lease;
    } catch (err) {
      // Only a lease that is not there says so; one we cannot read may be a live server's.
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
    return now > lease.renewedAt + Math.max(lease.lifetimeMs, 2 * LEASE_RENEW_MS);
  }
}
