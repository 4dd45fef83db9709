// The sandboxes' registry and package proxy belong to the data dir, not to a replica: one server process
// runs them (their lock files say which) and the other replicas' sandboxes use the same sockets. When that
// process dies its children die with it, so a survivor starts its own within seconds instead of leaving
// pulls and installs broken until the dead one is restarted. A database lease picks one survivor: two
// starting at once would each bind the same sockets.
import type { Db } from '../db/client';
import { DbLease } from './leader';

export type SharedService = {
  name: string;
  /** Starts this process's own instance; throws `busy` errors while another live process serves it. */
  start: () => Promise<unknown>;
  busy: (err: unknown) => boolean;
};

const LOOK_MS = 2_000;
const LEASE_MS = 6_000;

/**
 * Keeps looking, for each service this replica does not serve, whether its server is gone, and takes it
 * over then. Returns a stop function.
 */
export function takeOverWhenFree(db: Db, replicaId: string, services: SharedService[]): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const waiting = new Set(services);
  const lease = new DbLease(db, 'shared-services', replicaId, LEASE_MS, Date.now);
  const look = async () => {
    for (const service of waiting) {
      if (stopped) return;
      try {
        // Not ours to take while another survivor is taking it (the lease), or its server lives (busy).
        if (!(await lease.acquire())) continue;
        await service.start();
        waiting.delete(service);
        console.log(`dockside: ${service.name}: its server stopped; this replica serves it now`);
      } catch (err) {
        if (!service.busy(err))
          console.warn(`dockside: ${service.name}: could not take over: ${(err as Error).message}`);
      }
    }
  };
  const loop = () => {
    timer = setTimeout(() => void look().finally(() => !stopped && waiting.size && loop()), LOOK_MS);
    timer.unref();
  };
  if (waiting.size) loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
    void lease.release().catch(() => {});
  };
}
