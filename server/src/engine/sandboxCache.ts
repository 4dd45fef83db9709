// Each replica's cache of the sandbox rows it has seen, for the reads on every keystroke (ownerOf,
// viewFor) that cannot wait for the database. Ownership only ever goes pool → one learner → gone, so a
// cached owner is never wrong; what else changes (workshop, lifetime) arrives on the cluster bus as a
// Changed message, and "gone" as the sandbox's id (the manager drops it).
import type { SandboxPhase } from '@dockside/protocol';
import type { Db } from '../db/client';
import type { TimerHandle } from './clock';

export type Row = Awaited<ReturnType<Db['sandbox']['findUniqueOrThrow']>>;

export type Entry = {
  id: string;
  range: number;
  ownerId: string | null;
  workshopId: string | null;
  /** The client address a self-paced start came from (null for re-adopted rows from before it was kept). */
  address: string | null;
  phase: SandboxPhase;
  createdAt: number;
  assignedAt: number | null;
  lastActiveAt: number;
  lastPersistedActivity: number;
  persistTimer?: TimerHandle;
};

/** What a replica tells the others when a sandbox's owner, workshop or lifetime changed (`sandbox.changed`). */
export type Changed = { id: string; ownerId: string | null; workshopId: string | null; assignedAt: number | null };

export class SandboxCache {
  private entries = new Map<string, Entry>();

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  delete(id: string): boolean {
    return this.entries.delete(id);
  }

  values(): IterableIterator<Entry> {
    return this.entries.values();
  }

  /** A row into the cache (or what the cache has updated from it). */
  put(row: Row): Entry {
    const known = this.entries.get(row.id);
    if (known) {
      known.ownerId ??= row.ownerId; // an owner never changes once set
      known.workshopId = row.workshopId;
      known.address ??= row.address;
      known.assignedAt = row.assignedAt?.getTime() ?? known.assignedAt;
      known.lastActiveAt = Math.max(known.lastActiveAt, row.lastActiveAt.getTime());
      if (row.state === 'ready') known.phase = 'ready';
      return known;
    }
    const entry: Entry = {
      id: row.id,
      range: row.idRange,
      ownerId: row.ownerId,
      workshopId: row.workshopId,
      address: row.address,
      phase: row.state === 'ready' ? 'ready' : 'allocating',
      createdAt: row.createdAt.getTime(),
      assignedAt: row.assignedAt?.getTime() ?? null,
      lastActiveAt: row.lastActiveAt.getTime(),
      lastPersistedActivity: row.lastActiveAt.getTime(),
    };
    this.entries.set(row.id, entry);
    return entry;
  }

  /** The learner's ready sandbox, if this replica knows it. */
  ownedBy(learnerId: string): Entry | undefined {
    for (const e of this.entries.values()) if (e.ownerId === learnerId && e.phase === 'ready') return e;
    return undefined;
  }

  /** What another replica published about a sandbox this one knows. */
  apply(c: Changed): void {
    const entry = this.entries.get(c.id);
    if (!entry) return;
    entry.ownerId ??= c.ownerId;
    entry.workshopId = c.workshopId;
    entry.assignedAt = c.assignedAt;
  }
}

/** The message that tells the other replicas of an entry's owner, workshop and lifetime. */
export function changedOf(entry: Entry): Changed {
  return { id: entry.id, ownerId: entry.ownerId, workshopId: entry.workshopId, assignedAt: entry.assignedAt };
}
