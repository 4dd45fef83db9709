// The ClusterBus of replicas sharing one PostgreSQL database: LISTEN/NOTIFY on one channel. A dedicated
// connection (not a pooled one, which the pool could hand to a query or close) listens, and is made again,
// with backoff, whenever it drops; publishing goes through a one-connection pool, so messages leave in the
// order they were published. NOTIFY carries at most 8000 bytes: a bigger message is refused, in words.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { BusHandler, ClusterBus } from './bus';

/** PostgreSQL's limit on a NOTIFY payload is 8000 bytes, the terminating zero included. */
export const MAX_NOTIFY_BYTES = 7999;
const CHANNEL = 'dockside_bus';
const MAX_TOPIC = 100;
const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5000;
/** A listening connection that died silently (no FIN, no error) is noticed within this. */
const HEARTBEAT_MS = 15_000;

export class BusPayloadError extends Error {}

export type PostgresBusOptions = {
  /** Told when the listening connection dropped and was made again: messages sent meanwhile were lost. */
  onReconnected?: () => void;
  log?: (line: string) => void;
};

type Envelope = { o: string; t: string; p?: unknown };

export class PostgresBus implements ClusterBus {
  /** This process's id on the bus: its own messages are delivered here directly, not through the database. */
  readonly origin = randomBytes(6).toString('hex');
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly publisher: pg.Pool;
  private listener: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly url: string,
    private readonly options: PostgresBusOptions,
  ) {
    this.log = options.log ?? ((line) => console.warn(`dockside: bus: ${line}`));
    this.publisher = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 30_000 });
    // An idle connection that dies is replaced by the pool at the next query; the error is only noted.
    this.publisher.on('error', (err) => this.log(`publishing connection lost (${err.message})`));
  }

  /** A bus on the database at `url`, listening once this resolves (rejects when it cannot connect). */
  static async connect(url: string, options: PostgresBusOptions = {}): Promise<PostgresBus> {
    const bus = new PostgresBus(url, options);
    try {
      await bus.listen();
    } catch (err) {
      await bus.publisher.end().catch(() => {});
      throw err;
    }
    return bus;
  }

  publish(topic: string, payload: unknown): void {
    if (this.closed) return; // shutting down: nobody listens here any more, as with LocalBus
    checkTopic(topic);
    const text = JSON.stringify({ o: this.origin, t: topic, p: payload } satisfies Envelope);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_NOTIFY_BYTES)
      throw new BusPayloadError(
        `a bus message on ${topic} is ${bytes} bytes, more than the ${MAX_NOTIFY_BYTES} a PostgreSQL NOTIFY carries: send ids, not contents`,
      );
    this.deliver(JSON.parse(text) as Envelope);
    this.publisher
      .query('SELECT pg_notify($1, $2)', [CHANNEL, text])
      .catch((err: Error) => this.log(`a message on ${topic} did not reach the other replicas (${err.message})`));
  }

  subscribe(topic: string, handler: BusHandler): () => void {
    checkTopic(topic);
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeat);
    this.handlers.clear();
    const listener = this.listener;
    this.listener = undefined;
    await Promise.all([listener?.end().catch(() => {}), this.publisher.end().catch(() => {})]);
  }

  /** Whether the listening connection is up (false while it is being made again). */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true });
    let lost = false;
    const drop = (why: string) => {
      if (lost) return;
      lost = true;
      clearInterval(this.heartbeat);
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => {});
      if (!this.closed) {
        this.log(`listening connection lost (${why}); connecting again`);
        this.scheduleReconnect();
      }
    };
    client.on('error', (err) => drop(err.message));
    client.on('end', () => drop('closed by the server'));
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      let envelope: Envelope;
      try {
        envelope = JSON.parse(msg.payload) as Envelope;
      } catch {
        return this.log('a message that is not JSON was ignored');
      }
      if (typeof envelope?.t !== 'string' || typeof envelope.o !== 'string') return;
      if (envelope.o !== this.origin) this.deliver(envelope);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      lost = true;
      client.end().catch(() => {});
      throw err;
    }
    if (this.closed) return void client.end().catch(() => {});
    this.listener = client;
    this.attempt = 0;
    this.heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((err: Error) => drop(err.message));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt++) * (0.75 + Math.random() / 2);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.listen().then(
        () => {
          this.log('listening again');
          this.options.onReconnected?.();
        },
        (err: Error) => {
          this.log(`cannot listen yet (${err.message})`);
          this.scheduleReconnect();
        },
      );
    }, delay);
  }

  private deliver({ t, p }: Envelope): void {
    for (const handler of [...(this.handlers.get(t) ?? [])]) {
      try {
        handler(p);
      } catch (err) {
        this.log(`a handler of ${t} failed: ${(err as Error).message}`);
      }
    }
  }
}

function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC)
    throw new Error(`a bus topic is a name of 1 to ${MAX_TOPIC} characters, not ${JSON.stringify(topic)}`);
}
