// One Prisma client per process, created at start-up and passed to whoever needs it (no global).
import { PRISMA } from '../paths';
import { PrismaClient } from '../generated/sqlite/client';
import { PrismaClient as PgPrismaClient } from '../generated/postgresql/client';
import { adapterFor, sqlitePath, type DatabaseConfig } from './adapters';
import { migratePostgres, migrateSqlite } from './migrations';

// Both generated clients have the same model API; the SQLite one names the type.
export type Db = PrismaClient;

export async function migrate(database: DatabaseConfig): Promise<string[]> {
  return database.provider === 'sqlite'
    ? migrateSqlite(sqlitePath(database.url), PRISMA.sqlite.migrations)
    : migratePostgres(database.url, PRISMA.postgresql.migrations);
}

export function createDb(database: DatabaseConfig): Db {
  const adapter = adapterFor(database);
  return database.provider === 'sqlite'
    ? new PrismaClient({ adapter })
    : (new PgPrismaClient({ adapter }) as unknown as Db);
}
