// One admission decision at a time across every replica: who gets a warm sandbox, whether a new one
// fits the machine, a workshop's seats and an address's share, and the queue's order. On PostgreSQL a
// transaction holds an advisory lock until it ends; SQLite serves one process only, so a mutex in that
// process is the same guarantee. Inside, nothing slow may run (no runtime call): every replica waits on it.
import type { Db } from '../db/client';

/** The client an admission decision reads and writes through (a transaction on PostgreSQL). */
export type Tx = Omit<Db, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

/** A fixed key of pg_advisory_xact_lock; the migrations' lock (db/migrations.ts) is 72707369. */
const ADMISSION_LOCK_KEY = 72707370;
/** How long a decision may wait for its turn and then take: many joins at once queue up here. */
const WAIT_MS = 60_000;

export function databaseProvider(db: Db): 'sqlite' | 'postgresql' {
  return (db as unknown as { _activeProvider?: string })._activeProvider === 'postgresql' ? 'postgresql' : 'sqlite';
}

/** A promise chain per database client: this process's decisions one after another. */
const queues = new WeakMap<Db, Promise<unknown>>();

/**
 * Runs `fn` while no other admission decision runs, in this process or (PostgreSQL) any replica. The
 * in-process turn comes first on PostgreSQL too, so a burst of joins holds one pooled connection waiting
 * on the advisory lock rather than all of them.
 */
export function withAdmissionLock<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const previous = queues.get(db) ?? Promise.resolve();
  const run = previous.then(
    () => decide(db, fn),
    () => decide(db, fn),
  );
  queues.set(
    db,
    run.catch(() => {}),
  );
  return run;
}

function decide<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (databaseProvider(db) === 'sqlite') return fn(db);
  return db.$transaction(
    async (tx) => {
      await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(${ADMISSION_LOCK_KEY})`);
      return fn(tx as Tx);
    },
    { maxWait: WAIT_MS, timeout: WAIT_MS },
  );
}
