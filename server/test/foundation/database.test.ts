import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, migrate } from '../../src/db/client';
import { listMigrations } from '../../src/db/migrations';
import {
  openSchemaEngine,
  pendingSchemaChanges,
  postgresForSchemaEngine,
  scriptAwareSqlite,
} from '../../src/db/schemaEngine';
import { postgresSchemaText } from '../../src/db/schemaFiles';
import { PRISMA } from '../../src/paths';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dockside-db-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// CI and `npm test` start a PostgreSQL server and set this (scripts/test-services.mjs).
const PG_URL = process.env.DOCKSIDE_TEST_POSTGRES_URL;

async function sqlitePending(schemaFile: string, migrationsDir: string): Promise<string> {
  const engine = await openSchemaEngine(schemaFile, scriptAwareSqlite(new PrismaBetterSqlite3({ url: ':memory:' })));
  return pendingSchemaChanges(engine, schemaFile, migrationsDir);
}

describe('SQLite (default)', () => {
  const file = path.join(tmp, 'dockside.db');
  const database = { provider: 'sqlite' as const, url: `file:${file}` };

  it('applies every migration once and records it as Prisma does', async () => {
    const all = listMigrations(PRISMA.sqlite.migrations).map((m) => m.name);
    expect(await migrate(database)).toEqual(all);
    expect(await migrate(database)).toEqual([]);
    const rows = new Database(file).prepare('SELECT * FROM _prisma_migrations ORDER BY migration_name').all() as {
      migration_name: string;
      checksum: string;
      applied_steps_count: number;
      finished_at: number;
    }[];
    expect(rows.map((r) => r.migration_name)).toEqual(all);
    const sql = readFileSync(path.join(PRISMA.sqlite.migrations, all[0]!, 'migration.sql'), 'utf8');
    expect(rows[0]!.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
    expect(rows[0]!.applied_steps_count).toBe(1);
    expect(typeof rows[0]!.finished_at).toBe('number');
  });

  it('stores and reads models through Prisma Client', async () => {
    const db = createDb(database);
    await db.learner.create({ data: { id: 'learner-one', displayName: '민아' } });
    await db.lessonProgress.create({
      data: { id: 'p1', learnerId: 'learner-one', lessonId: 'Docker_Intro', stepId: 'run', status: 'passed' },
    });
    const learner = await db.learner.findUniqueOrThrow({ where: { id: 'learner-one' }, include: { progress: true } });
    expect(learner.displayName).toBe('민아');
    expect(learner.progress[0]!.status).toBe('passed');
    await expect(
      db.sandbox.createMany({
        data: [1, 2].map((n) => ({
          id: `sb${n}`,
          idRange: 7,
          state: 'ready',
          memoryBytes: 1n,
          pidsLimit: 1,
          cpus: 1,
          diskBytes: 1n,
        })),
      }),
    ).rejects.toThrow(); // id ranges never overlap
    await db.$disconnect();
  });

  it('refuses a migration that was edited after it was applied', async () => {
    const dir = path.join(tmp, 'edited-migrations');
    cpSync(PRISMA.sqlite.migrations, dir, { recursive: true });
    const name = listMigrations(dir)[0]!.name;
    const { migrateSqlite } = await import('../../src/db/migrations');
    const f = path.join(tmp, 'edited.db');
    migrateSqlite(f, dir);
    writeFileSync(
      path.join(dir, name, 'migration.sql'),
      readFileSync(path.join(dir, name, 'migration.sql'), 'utf8') + '\n-- edit\n',
    );
    expect(() => migrateSqlite(f, dir)).toThrowError(
      `migration ${name} was edited after it was applied (checksum differs)`,
    );
  });
});

describe('schema and migrations agree', () => {
  it('for SQLite', async () => {
    expect(await sqlitePending(PRISMA.sqlite.schema, PRISMA.sqlite.migrations)).toBe('');
  });

  it('and the check fails when they do not', async () => {
    const schema = path.join(tmp, 'schema.prisma');
    writeFileSync(
      schema,
      readFileSync(PRISMA.sqlite.schema, 'utf8').replace(
        '  displayName String?\n',
        '  displayName String?\n  nickname String?\n',
      ),
    );
    const sql = await sqlitePending(schema, PRISMA.sqlite.migrations);
    expect(sql).toMatch(/nickname/);
  });

  it('the PostgreSQL schema is generated from the SQLite one', () => {
    expect(readFileSync(PRISMA.postgresql.schema, 'utf8')).toBe(
      postgresSchemaText(readFileSync(PRISMA.sqlite.schema, 'utf8')),
    );
  });
});

describe.runIf(PG_URL)('PostgreSQL (DATABASE_URL=postgres://…)', () => {
  const url = PG_URL!;
  const dbName = `dockside_test_${process.pid}`;
  const shadowName = `${dbName}_shadow`;
  const withDb = (name: string) => {
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };

  async function admin(sql: string): Promise<void> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(sql);
    await c.end();
  }

  it('migrates, stores and reads, and agrees with its migrations', async () => {
    await admin(`CREATE DATABASE ${dbName}`);
    await admin(`CREATE DATABASE ${shadowName}`);
    try {
      const database = { provider: 'postgresql' as const, url: withDb(dbName) };
      expect((await migrate(database)).length).toBe(listMigrations(PRISMA.postgresql.migrations).length);
      expect(await migrate(database)).toEqual([]);
      const db = createDb(database);
      await db.learner.create({ data: { id: 'pg-learner', displayName: 'Jun' } });
      expect((await db.learner.findUniqueOrThrow({ where: { id: 'pg-learner' } })).displayName).toBe('Jun');
      await db.$disconnect();

      const engine = await openSchemaEngine(PRISMA.postgresql.schema, postgresForSchemaEngine(withDb(shadowName)));
      expect(await pendingSchemaChanges(engine, PRISMA.postgresql.schema, PRISMA.postgresql.migrations)).toBe('');
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin(`DROP DATABASE IF EXISTS ${shadowName} WITH (FORCE)`);
    }
  });
});
