import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';

/** Which database, and where: a `file:` URL is SQLite, anything else PostgreSQL. */
export type DatabaseConfig = { provider: 'sqlite' | 'postgresql'; url: string };

export function sqlitePath(url: string): string {
  return url.replace(/^file:/, '');
}

export function adapterFor(database: DatabaseConfig): PrismaBetterSqlite3 | PrismaPg {
  return database.provider === 'sqlite'
    ? new PrismaBetterSqlite3({ url: sqlitePath(database.url) })
    : new PrismaPg({ connectionString: database.url });
}
