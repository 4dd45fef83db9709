// Prisma's own schema engine, compiled to wasm, driven through a driver adapter. Prisma 7's CLI needs a
// native engine binary that cannot be downloaded here; the wasm build computes the same diffs offline.
// Used to author migrations and to prove that a schema and its migrations agree.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, SqlQuery } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { listMigrations } from './migrations';

const NO_FILTERS = { externalTables: [], externalEnums: [] };

let lastPanic = '';
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY = {
  set_message: (message: string) => (lastPanic = message),
};

/** The engine's message when it panicked (the thrown error only says "unreachable"). */
export function schemaEnginePanic(): string {
  return lastPanic;
}

// The bindings module is shared, so the wasm instance must be too.
let wasmModule: Promise<typeof import('@prisma/schema-engine-wasm')> | undefined;
const loadWasm = () => (wasmModule ??= instantiateWasm());

async function instantiateWasm(): Promise<typeof import('@prisma/schema-engine-wasm')> {
  // The package's entry imports the .wasm as an ES module, which Node 20 cannot; instantiate it by hand.
  const dir = path.dirname(createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm'));
  const bindings = await import(pathToFileURL(path.join(dir, 'schema_engine_bg.js')).href);
  const { instance } = await WebAssembly.instantiate(readFileSync(path.join(dir, 'schema_engine_bg.wasm')), {
    './schema_engine_bg.js': bindings,
  });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
  return bindings;
}

/**
 * better-sqlite3 runs one statement per executeRaw; the engine replays whole migration files through it.
 * Send argument-less, multi-statement SQL to executeScript instead.
 */
export function scriptAwareSqlite(
  factory: SqlMigrationAwareDriverAdapterFactory,
): SqlMigrationAwareDriverAdapterFactory {
  const wrap = (adapter: SqlDriverAdapter): SqlDriverAdapter =>
    withMethod(adapter, 'executeRaw', async (query: SqlQuery) => {
      if (query.args.length === 0 && query.sql.trim().replace(/;\s*$/, '').includes(';')) {
        await adapter.executeScript(query.sql);
        return 0;
      }
      return adapter.executeRaw(query);
    });
  const connected = withMethod(factory, 'connect', async () => wrap(await factory.connect()));
  return withMethod(connected, 'connectToShadowDb', async () => wrap(await factory.connectToShadowDb()));
}

/** pg's Client, reporting the catalog type "char" (OID 18) as text, which the PostgreSQL adapter cannot map. */
class CharAsTextClient extends pg.Client {
  // pg-pool calls query with a callback, the adapter's own connections without: handle both.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const fix = (r: pg.QueryResult | undefined) => {
      for (const f of r?.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
      return r;
    };
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last];
      args[last] = (err: Error | null, r: pg.QueryResult) => callback(err, fix(r));
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const result = (super.query as any)(...args);
    return result && typeof result.then === 'function' ? result.then(fix) : result;
  }
}

/**
 * A PostgreSQL adapter for the schema engine. Its shadow databases (scratch copies for diffs) are created
 * and dropped here: the adapter's own drops the database while its pool still holds a connection.
 */
export function postgresForSchemaEngine(url: string): SqlMigrationAwareDriverAdapterFactory {
  const u = new URL(url);
  const config: pg.PoolConfig = {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1) || 'postgres',
    Client: CharAsTextClient,
  };
  const main = new PrismaPg(config);
  const connectToShadowDb = async (): Promise<SqlDriverAdapter> => {
    const admin = new pg.Client(config);
    await admin.connect();
    const name = `dockside_shadow_${randomUUID().replace(/-/g, '')}`;
    await admin.query(`CREATE DATABASE "${name}"`);
    const adapter = await new PrismaPg({ ...config, database: name }).connect();
    return withMethod(adapter, 'dispose', async () => {
      await adapter.dispose();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    });
  };
  return withMethod(main as unknown as SqlMigrationAwareDriverAdapterFactory, 'connectToShadowDb', connectToShadowDb);
}

/** `target` with one method replaced; every other property is the target's own. */
function withMethod<T extends object, K extends keyof T>(target: T, name: K, method: T[K]): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (prop === name) return method;
      const value = Reflect.get(t, prop, receiver);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

export async function openSchemaEngine(
  schemaFile: string,
  adapter: SqlMigrationAwareDriverAdapterFactory,
): Promise<SchemaEngine> {
  const wasm = await loadWasm();
  const schema = readFileSync(schemaFile, 'utf8');
  return wasm.SchemaEngine.new(
    { datamodels: [[path.basename(schemaFile), schema]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
}

export function migrationList(migrationsDir: string): MigrationList {
  const lockPath = path.join(migrationsDir, 'migration_lock.toml');
  let lock: string | null = null;
  try {
    lock = readFileSync(lockPath, 'utf8');
  } catch {
    lock = null;
  }
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: lock },
    shadowDbInitScript: '',
    migrationDirectories: listMigrations(migrationsDir).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
  };
}

/** SQL that takes a database from `migrationsDir`'s end state to `schemaFile`'s; empty when they agree. */
export async function pendingSchemaChanges(
  engine: SchemaEngine,
  schemaFile: string,
  migrationsDir: string,
): Promise<string> {
  const schema = { path: path.basename(schemaFile), content: readFileSync(schemaFile, 'utf8') };
  const hasMigrations = listMigrations(migrationsDir).length > 0;
  const result = await engine.diff({
    from: hasMigrations ? { tag: 'migrations', ...migrationList(migrationsDir) } : { tag: 'empty' },
    to: { tag: 'schemaDatamodel', files: [schema] },
    script: true,
    exitCode: null,
    filters: NO_FILTERS,
  });
  const sql = (result.stdout ?? '').trim();
  return sql === '-- This is an empty migration.' ? '' : sql;
}
