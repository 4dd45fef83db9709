// Control messages between the server processes (replicas) that share one database: sandbox and workshop
// events, never terminal bytes. A single process uses LocalBus; replicas on PostgreSQL share a bus over
// LISTEN/NOTIFY, whose payloads are limited to about 8 kB, so messages name things rather than carry them.

export type BusHandler = (payload: unknown) => void;

export interface ClusterBus {
  /** Delivered to the subscribers of `topic` in every replica, this one's included. */
  publish(topic: string, payload: unknown): void;
  subscribe(topic: string, handler: BusHandler): () => void;
  close(): Promise<void>;
}

/** The bus of one process alone: delivery is immediate and in order. */
export class LocalBus implements ClusterBus {
  private handlers = new Map<string, Set<BusHandler>>();

  publish(topic: string, payload: unknown): void {
    // A copy, as another replica would receive it: no subscriber shares the publisher's object.
    const copy: unknown = payload === undefined ? undefined : JSON.parse(JSON.stringify(payload));
    for (const handler of this.handlers.get(topic) ?? []) handler(copy);
  }

  subscribe(topic: string, handler: BusHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
