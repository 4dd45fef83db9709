// socket.io across replicas: @socket.io/postgres-adapter carries every room emit (`io.to(room).emit`) to
// the other replicas' sockets in that room, over NOTIFY. It holds a connection of its own for LISTEN,
// apart from the small pool it publishes through (neither is Prisma's). Only control events go through
// rooms; terminal bytes go straight from a replica to its own socket (`socket.emit`), which no adapter
// sees.
import { createAdapter } from '@socket.io/postgres-adapter';
import pg from 'pg';

/** Where the adapter keeps a payload too big for a NOTIFY (or binary) for the others to read. */
export const ATTACHMENTS_TABLE = 'socket_io_attachments';

export type RealtimeAdapter = {
  adapter: ReturnType<typeof createAdapter>;
  close: () => Promise<void>;
};

export async function postgresAdapter(
  url: string,
  log: (line: string) => void = (line) => console.warn(`dockside: socket.io adapter: ${line}`),
): Promise<RealtimeAdapter> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', (err) => log(`idle connection lost (${err.message})`));
  const create = () =>
    pool.query(
      `CREATE TABLE IF NOT EXISTS ${ATTACHMENTS_TABLE} (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)`,
    );
  try {
    // Two replicas starting together may race on IF NOT EXISTS (a unique violation in the catalogue): once more.
    await create().catch(() => create());
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  // The adapter takes its LISTEN connection with `connect()` and keeps it, making another when it ends.
  // Taken from the pool, a connection that died would never be given back (the adapter does not release
  // it), so after a few the pool would have none left: it gets a connection of its own each time instead.
  const listening = new Set<pg.Client>();
  const source = {
    query: pool.query.bind(pool),
    connect: async () => {
      const client = new pg.Client({ connectionString: url, keepAlive: true });
      // An error on it (pg_terminate_backend, PostgreSQL restarting) ends it; the adapter listens again.
      client.on('error', (err) => log(`listening connection lost (${err.message}); connecting again`));
      client.on('end', () => listening.delete(client));
      await client.connect();
      listening.add(client);
      return Object.assign(client, { release: () => void client.end().catch(() => {}) });
    },
  };
  return {
    adapter: createAdapter(source as unknown as pg.Pool, {
      tableName: ATTACHMENTS_TABLE,
      errorHandler: (err) => log(err.message),
    }),
    close: async () => {
      await Promise.all([...listening].map((c) => c.end().catch(() => {})));
      await pool.end();
    },
  };
}
