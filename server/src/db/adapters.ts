import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Config } from '../config';

export function sqlitePath(url: string): string {
  return url.replace(/^file:/, '');
}

export function adapterFor(database: Config['database']): PrismaBetterSqlite3 | PrismaPg {
  return database.provider === 'sqlite'
    ? new PrismaBetterSqlite3({ url: sqlitePath(database.url) })
    : new PrismaPg({ connectionString: database.url });
}
