// socket.io across replicas: @socket.io/postgres-adapter carries every room emit (`io.to(room).emit`) to
// the other replicas' sockets in that room, over NOTIFY. It holds one connection of its own pool for LISTEN
// (a pool no query of ours shares). Only control events go through rooms; terminal bytes go straight from
// a replica to its own socket (`socket.emit`), which no adapter sees.
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
  // The adapter keeps one connection checked out for LISTEN and makes it again when it ends; an error on
  // it (pg_terminate_backend, a restart of PostgreSQL) must not be an unhandled 'error' event.
  pool.on('connect', (client) => client.on('error', (err) => log(`connection lost (${err.message}); reconnecting`)));
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
  return {
    adapter: createAdapter(pool, {
      tableName: ATTACHMENTS_TABLE,
      errorHandler: (err) => log(err.message),
    }),
    close: () => pool.end(),
  };
}
