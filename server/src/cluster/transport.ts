// How this process talks to the other replicas, by database. On SQLite there are none (one process, which
// the lock beside the database enforces: sqliteLock.ts) and the bus is in-process. On PostgreSQL the bus
// is LISTEN/NOTIFY and socket.io's rooms span the replicas through its PostgreSQL adapter; each holds
// connections of its own, apart from Prisma's pool: a LISTEN needs a connection no query borrows.
import type { ServerOptions } from 'socket.io';
import type { DatabaseConfig } from '../db/adapters';
import { LocalBus, type ClusterBus } from './bus';
import { PostgresBus } from './postgresBus';
import { postgresAdapter } from './socketAdapter';

export type ClusterTransport = {
  bus: ClusterBus;
  /** socket.io's adapter across replicas; undefined: the in-memory one (a single process). */
  adapter?: ServerOptions['adapter'];
  /** Told when the bus listens again after its connection dropped: what was sent meanwhile was lost. */
  onReconnected: (listener: () => void) => void;
  close: () => Promise<void>;
};

export async function joinCluster(database: DatabaseConfig): Promise<ClusterTransport> {
  if (database.provider === 'sqlite') {
    const bus = new LocalBus();
    return { bus, onReconnected: () => {}, close: () => bus.close() };
  }
  const reconnected = new Set<() => void>();
  const bus = await PostgresBus.connect(database.url, { onReconnected: () => reconnected.forEach((l) => l()) });
  try {
    const realtime = await postgresAdapter(database.url);
    return {
      bus,
      adapter: realtime.adapter,
      onReconnected: (listener) => void reconnected.add(listener),
      // After socket.io closed (its adapters give the LISTEN connection back first).
      close: async () => void (await Promise.all([bus.close(), realtime.close()])),
    };
  } catch (err) {
    await bus.close();
    throw err;
  }
}
