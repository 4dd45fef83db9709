// The lock beside a SQLite database: one holder at a time, free again once released; a path it cannot
// use is said in words. (Two real server processes: server/test/cluster/sqlite-single-process.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockSqlite, SqliteInUseError } from './sqliteLock';

describe('the SQLite lock', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets one holder have it, refuses another in words, and is free again once released', () => {
    const db = path.join(dir, 'dockside.db');
    const first = lockSqlite(db);
    expect(() => lockSqlite(db)).toThrow(SqliteInUseError);
    expect(() => lockSqlite(db)).toThrow(`another server is already running on the SQLite database ${db}`);
    first.release();
    lockSqlite(db).release();
  });

  it('says which lock it could not open', () => {
    const file = path.join(dir, 'not-a-dir');
    writeFileSync(file, '');
    expect(() => lockSqlite(path.join(file, 'dockside.db'))).toThrow(
      new RegExp(`^cannot open the lock ${file}/dockside\\.db\\.lock of the SQLite database \\(`),
    );
  });
});
