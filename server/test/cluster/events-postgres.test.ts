// Events between replicas on a real PostgreSQL (npm test starts one): the cluster bus over LISTEN/NOTIFY,
// two buses on one database as two replicas would hold them, and socket.io's PostgreSQL adapter, with two
// socket.io servers in this process whose clients hear each other's room emits.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusPayloadError, MAX_NOTIFY_BYTES, PostgresBus } from '../../src/cluster/postgresBus';
import { postgresAdapter, type RealtimeAdapter } from '../../src/cluster/socketAdapter';

const PG_URL = process.env.DOCKSIDE_TEST_POSTGRES_URL;
const dbName = `dockside_h2_events_${process.pid}`;

async function admin(sql: string, url = PG_URL!): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Resolves with the first `count` payloads a topic delivers, or rejects after `ms`. */
function collect(bus: PostgresBus, topic: string, count: number, ms = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    const timer = setTimeout(
      () => reject(new Error(`${got.length} of ${count} on ${topic}: ${JSON.stringify(got)}`)),
      ms,
    );
    const off = bus.subscribe(topic, (p) => {
      got.push(p);
      if (got.length === count) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(PG_URL)('events across replicas on PostgreSQL', () => {
  let url: string;

  beforeAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${dbName}`);
    const u = new URL(PG_URL!);
    u.pathname = `/${dbName}`;
    url = u.toString();
  });
  afterAll(async () => {
    if (PG_URL) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  describe('the cluster bus', () => {
    let a: PostgresBus;
    let b: PostgresBus;
    const logs: string[] = [];
    let reconnects = 0;

    beforeAll(async () => {
      a = await PostgresBus.connect(url, {
        log: (l) => logs.push(l),
        onReconnected: () => reconnects++,
      });
      b = await PostgresBus.connect(url, { log: (l) => logs.push(l) });
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('delivers messages both ways, in order, to the publisher too, and only on their topic', async () => {
      const atB = collect(b, 'room', 3);
      const atA = collect(a, 'room', 4);
      const other = collect(b, 'elsewhere', 1, 1500);
      a.publish('room', { n: 1, text: 'ünïcode ✓' });
      a.publish('room', { n: 2 });
      b.publish('room', { n: 3 });
      a.publish('room', [1, 2]);
      // b hears its own message directly, and a's two in the order a sent them.
      expect((await atB).filter((p) => (p as { n?: number }).n !== 3)).toEqual([{ n: 1, text: 'ünïcode ✓' }, { n: 2 }]);
      const seenByA = await atA;
      expect(seenByA).toContainEqual({ n: 3 });
      expect(seenByA.filter((p) => (p as { n?: number }).n !== 3)).toEqual([
        { n: 1, text: 'ünïcode ✓' },
        { n: 2 },
        [1, 2],
      ]);
      await expect(other).rejects.toThrow(/0 of 1/);
    });

    it('delivers each message once per replica', async () => {
      const seen: unknown[] = [];
      const off = b.subscribe('once', (p) => seen.push(p));
      a.publish('once', { id: 'x' });
      await until('the message', () => seen.length > 0);
      await new Promise((r) => setTimeout(r, 500));
      off();
      expect(seen).toEqual([{ id: 'x' }]);
    });

    it('refuses a message too big for a NOTIFY, saying so, and sends nothing', async () => {
      const seen: unknown[] = [];
      const off = b.subscribe('big', (p) => seen.push(p));
      expect(() => a.publish('big', { blob: 'x'.repeat(MAX_NOTIFY_BYTES) })).toThrow(BusPayloadError);
      expect(() => a.publish('big', { blob: 'x'.repeat(MAX_NOTIFY_BYTES) })).toThrow(
        /more than the 7999 a PostgreSQL NOTIFY carries: send ids, not contents/,
      );
      // Just under the limit goes through.
      const fits = 'y'.repeat(MAX_NOTIFY_BYTES - 200);
      a.publish('big', { fits });
      await until('the message that fits', () => seen.length === 1);
      off();
      expect(seen).toEqual([{ fits }]);
      expect(() => a.publish('', {})).toThrow(/a bus topic is a name of 1 to 100 characters/);
    });

    it('listens again after its LISTEN connection is terminated, and messages flow again', async () => {
      const before = await admin(
        `SELECT pid FROM pg_stat_activity WHERE datname = '${dbName}' AND query LIKE 'LISTEN%'`,
        url,
      );
      expect(before.rows.length).toBe(2); // one listening connection per bus
      await admin(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}' AND query LIKE 'LISTEN%'`,
        url,
      );
      await until('both buses to notice', () => !a.listening || !b.listening, 5000);
      await until('both buses to listen again', () => a.listening && b.listening, 15_000);
      expect(reconnects).toBeGreaterThanOrEqual(1);
      expect(logs.some((l) => /listening connection lost/.test(l))).toBe(true);
      // Each hears the other's message across the database again, and its own.
      const atB = collect(b, 'after', 2);
      const atA = collect(a, 'after', 2);
      a.publish('after', 'from a');
      b.publish('after', 'from b');
      expect((await atB).sort()).toEqual(['from a', 'from b']);
      expect((await atA).sort()).toEqual(['from a', 'from b']);
    });
  });

  describe("socket.io's PostgreSQL adapter", () => {
    type Replica = { http: HttpServer; io: Server; realtime: RealtimeAdapter; url: string };
    const replicas: Replica[] = [];
    const clients: Socket[] = [];

    async function replica(): Promise<Replica> {
      const realtime = await postgresAdapter(url, () => {});
      const http = createServer();
      const io = new Server(http, { transports: ['websocket'], adapter: realtime.adapter });
      io.on('connection', (socket) => void socket.join(`learner:${String(socket.handshake.auth.learner)}`));
      io.of('/instructor').on('connection', (socket) => void socket.join('workshop:w'));
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      const r = { http, io, realtime, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
      replicas.push(r);
      return r;
    }
    async function client(at: Replica, nsp: string, learner?: string): Promise<Socket> {
      const s = connect(`${at.url}${nsp}`, { transports: ['websocket'], auth: { learner }, forceNew: true });
      clients.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('connect_error', reject);
      });
      return s;
    }

    afterAll(async () => {
      for (const c of clients) c.disconnect();
      for (const r of replicas) {
        await r.io.close();
        await r.realtime.close();
      }
    });

    it('carries a room emit from one server to a client of the other, in both namespaces, once, and only to that room', async () => {
      const a = await replica();
      const b = await replica();
      // Each adapter learns of the other by heartbeat; wait until both count two servers.
      await until('both servers to see each other', async () => {
        const counts = await Promise.all([a.io.of('/').adapter.serverCount(), b.io.of('/').adapter.serverCount()]);
        return counts.every((n) => n === 2);
      });
      const kim = await client(b, '/', 'kim');
      const lee = await client(b, '/', 'lee');
      const instructor = await client(b, '/instructor');
      const toasts: unknown[] = [];
      const leeToasts: unknown[] = [];
      const updates: unknown[] = [];
      kim.on('toast', (t) => toasts.push(t));
      lee.on('toast', (t) => leeToasts.push(t));
      instructor.on('dashboard:update', (u) => updates.push(u));
      // The joins happened on b; a emits to the room without any socket of its own in it.
      await until('the rooms to be joined', () => b.io.of('/').adapter.rooms.get('learner:kim')?.size === 1);
      a.io.to('learner:kim').emit('toast', { message: 'from a' });
      a.io.of('/instructor').to('workshop:w').emit('dashboard:update', { at: 1 });
      await until('the toast and the update', () => toasts.length === 1 && updates.length === 1);
      await new Promise((r) => setTimeout(r, 500));
      expect(toasts).toEqual([{ message: 'from a' }]);
      expect(updates).toEqual([{ at: 1 }]);
      expect(leeToasts).toEqual([]);
      // A local emit stays on its server: what each replica pushes to its own dashboards.
      a.io.of('/instructor').local.to('workshop:w').emit('dashboard:update', { at: 2 });
      await new Promise((r) => setTimeout(r, 500));
      expect(updates).toEqual([{ at: 1 }]);
    });

    it('survives its LISTEN connection being terminated, and carries emits again once it is back', async () => {
      const [a, b] = replicas as [Replica, Replica];
      const kim = clients[0]!;
      const toasts: unknown[] = [];
      kim.on('toast', (t: { message: string }) => t.message === 'after' && toasts.push(t));
      await admin(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}' AND query LIKE 'LISTEN "socket.io#%'`,
        url,
      );
      // The adapter listens again within a few seconds; until then an emit may be lost, as documented.
      await until(
        'an emit from a to reach b again',
        () => {
          a.io.to('learner:kim').emit('toast', { message: 'after' });
          return toasts.length > 0;
        },
        20_000,
      );
      expect(b.io.of('/').adapter.rooms.get('learner:kim')?.size).toBe(1);
    });

    it('refuses long-polling: a connection is one WebSocket, which any replica can take', async () => {
      const a = replicas[0]!;
      const res = await fetch(`${a.url}/socket.io/?EIO=4&transport=polling`);
      expect(res.status).toBe(400);
    });
  });
});
