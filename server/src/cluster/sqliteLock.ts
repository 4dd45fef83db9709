// SQLite serves one server process: a second one on the same database would hand out the same sandboxes
// and keep its own in-memory state. Each server holds an exclusive lock on `<database>.lock` (a lock of
// SQLite's own, which the kernel drops with the process, so a crash never leaves a stale lock behind).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export class SqliteInUseError extends Error {}

const held = new Set<Database.Database>();

export type SqliteLock = { release: () => void };

/** Takes the lock beside the SQLite database at `dbPath`; SqliteInUseError when another process holds it. */
export function lockSqlite(dbPath: string): SqliteLock {
  const lockPath = `${dbPath}.lock`;
  let db: Database.Database;
  try {
    mkdirSync(path.dirname(lockPath), { recursive: true });
    db = new Database(lockPath, { timeout: 0 });
  } catch (err) {
    throw new Error(`cannot open the lock ${lockPath} of the SQLite database (${(err as Error).message})`);
  }
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY')
      throw new SqliteInUseError(
        `another server is already running on the SQLite database ${dbPath}; SQLite serves one process: stop that one, or set DATABASE_URL=postgres://… to run several`,
      );
    throw new Error(`cannot lock the SQLite database with ${lockPath} (${(err as Error).message})`);
  }
  // Kept referenced: a connection that is collected closes, and its lock goes with it.
  held.add(db);
  return {
    release: () => {
      held.delete(db);
      db.close();
    },
  };
}
