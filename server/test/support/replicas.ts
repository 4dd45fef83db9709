// Several real server processes (replicas) on one fresh PostgreSQL database, behind a real HAProxy, as
// `npm run start:replicas` runs them: each replica can be reached directly (to put a learner on one and
// the instructor on another) or through the balancer, stopped by `kill -9`, and started again.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  checkHaproxyConfig,
  HAPROXY_BIN,
  haproxyArgs,
  haproxyCommand,
  haproxyConfig,
  REPLICA_HEADER,
  replicaStates,
} from '../../../scripts/haproxy.mjs';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { SHARED_DATA_DIR } from './runtime';
import { freePort, startServer, type RunningServer } from './server';

export type Replica = { name: string; port: number; url: string; server: RunningServer };

export type ReplicaSet = {
  /** The balancer's address: what a learner's browser uses. */
  url: string;
  databaseUrl: string;
  /** The sandbox id prefix every replica uses (one per database). */
  idPrefix: string;
  setupCode: string;
  replica(name: string): Replica;
  /** Which replica answered a request through the balancer (HAProxy's response header). */
  servedBy(): Promise<string>;
  /** HAProxy's view of each replica: UP, DOWN, MAINT…, and its open sessions (an open WebSocket is one). */
  states(): Promise<Record<string, { status: string; sessions: number }>>;
  /** Takes a replica out of the balancer (`maint`) or puts it back (`ready`, then waits until it is UP). */
  setState(name: string, state: 'maint' | 'ready'): Promise<void>;
  /** `kill -9` of the replica's node process; resolves when it is gone. */
  kill9(name: string): Promise<void>;
  /** Starts a stopped or killed replica again on its port, and waits until the balancer has it UP. */
  restart(name: string): Promise<void>;
  output(): string;
  stop(): Promise<void>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pgAdmin(adminUrl: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * Starts `names.length` replicas (default a and b) sharing a fresh database and the test data dir, one
 * after the other (the first migrates the database), then HAProxy in front.
 */
export async function startReplicas(
  opts: { tag: string; names?: string[]; env?: Record<string, string> } = { tag: 'replicas' },
): Promise<ReplicaSet> {
  const adminUrl = process.env.DOCKSIDE_TEST_POSTGRES_URL;
  if (!adminUrl)
    throw new Error(
      'DOCKSIDE_TEST_POSTGRES_URL is not set: the replicas need PostgreSQL (npm test starts one; or set it to postgres://user:pass@127.0.0.1:5432/postgres of a role that may create databases)',
    );
  if (!existsSync(HAPROXY_BIN)) throw new Error(`${HAPROXY_BIN} is missing: apt-get install haproxy (npm test does)`);
  const names = opts.names ?? ['a', 'b'];
  const dbName = `dockside_${opts.tag}_${process.pid}`;
  if (!/^[a-z0-9_]+$/.test(dbName)) throw new Error(`bad database name ${dbName}`);
  await pgAdmin(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await pgAdmin(adminUrl, `CREATE DATABASE ${dbName}`);
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  const databaseUrl = u.toString();
  const idPrefix = `sb-${createHash('sha256').update(databaseUrl).digest('hex').slice(0, 6)}-`;
  const setupCode = `TEST-${randomBytes(9).toString('hex').toUpperCase()}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-replicas-'));

  const ports = new Map<string, number>();
  for (const name of names) ports.set(name, await freePort());
  const env = (name: string): Record<string, string> => ({
    DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
    DATABASE_URL: databaseUrl,
    DOCKSIDE_SETUP_CODE: setupCode,
    // Behind the balancer, as the recipe runs them: HAProxy appends the client's address.
    DOCKSIDE_TRUSTED_PROXIES: '1',
    ...opts.env,
    PORT: String(ports.get(name)),
  });
  const replicas = new Map<string, Replica>();
  const logs: string[] = [];
  let haproxy: ChildProcess | undefined;
  let haproxyOut = '';
  const stopAll = async () => {
    await Promise.all([...replicas.values()].map((r) => r.server.stop().catch(() => {})));
    if (haproxy && haproxy.exitCode === null) {
      const exited = new Promise((r) => haproxy!.once('exit', r));
      haproxy.kill('SIGTERM');
      await exited;
    }
    // What the replicas kept (DOCKSIDE_KEEP_SANDBOXES, a killed one): this database's sandboxes only.
    const rt = new NativeRuntime(SHARED_DATA_DIR);
    for (const s of await rt.list().catch(() => []))
      if (s.id.startsWith(idPrefix)) await rt.destroy(s.id).catch(() => {});
    await pgAdmin(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const name of names) {
      const server = await startServer(env(name));
      replicas.set(name, { name, port: ports.get(name)!, url: server.url, server });
    }
    const port = await freePort();
    const adminSocket = path.join(dir, 'haproxy.sock');
    const config = path.join(dir, 'haproxy.cfg');
    writeFileSync(
      config,
      haproxyConfig({
        host: '127.0.0.1',
        port,
        replicas: names.map((name) => ({ name, port: ports.get(name)! })),
        adminSocket,
      }),
    );
    checkHaproxyConfig(config);
    haproxy = spawn(HAPROXY_BIN, haproxyArgs(config), { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.on('data', (d) => (haproxyOut += d));
    haproxy.stderr!.on('data', (d) => (haproxyOut += d));
    const url = `http://127.0.0.1:${port}`;

    const states = () => replicaStates(adminSocket);
    const until = async (what: string, cond: () => Promise<boolean>, ms = 30_000) => {
      const end = Date.now() + ms;
      for (;;) {
        if (haproxy!.exitCode !== null) throw new Error(`haproxy exited with ${haproxy!.exitCode}:\n${haproxyOut}`);
        if (await cond().catch(() => false)) return;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${haproxyOut}`);
        await sleep(100);
      }
    };
    const isUp = (name: string) => async () => (await states())[name]?.status === 'UP';
    for (const name of names) await until(`replica ${name} UP in the balancer`, isUp(name));

    const replica = (name: string) => {
      const r = replicas.get(name);
      if (!r) throw new Error(`no replica ${name} (there are ${names.join(', ')})`);
      return r;
    };
    return {
      url,
      databaseUrl,
      idPrefix,
      setupCode,
      replica,
      states,
      servedBy: async () => {
        const res = await fetch(`${url}/healthz`);
        await res.arrayBuffer();
        const by = res.headers.get(REPLICA_HEADER);
        if (!by) throw new Error(`no ${REPLICA_HEADER} header: status ${res.status}`);
        return by;
      },
      setState: async (name, state) => {
        replica(name);
        const answer = await haproxyCommand(adminSocket, `set server replicas/${name} state ${state}`);
        if (answer.trim()) throw new Error(`haproxy: ${answer.trim()}`);
        if (state === 'ready') await until(`replica ${name} UP in the balancer`, isUp(name));
        else await until(`replica ${name} in maintenance`, async () => (await states())[name]?.status === 'MAINT');
      },
      kill9: async (name) => {
        const { server } = replica(name);
        logs.push(`--- ${name} (killed)\n${server.output()}`);
        const exited = new Promise((r) => (server.child.exitCode === null ? server.child.once('exit', r) : r(0)));
        process.kill(server.serverPid(), 'SIGKILL');
        // tsx's wrapper follows its child; if it does not, it goes too.
        setTimeout(() => server.child.exitCode === null && server.child.kill('SIGKILL'), 2000).unref();
        await exited;
      },
      restart: async (name) => {
        const r = replica(name);
        if (r.server.child.exitCode === null) await r.server.stop();
        r.server = await startServer(env(name));
        await until(`replica ${name} UP in the balancer`, isUp(name));
      },
      output: () =>
        [
          ...logs,
          ...[...replicas.values()].map((r) => `--- ${r.name}\n${r.server.output()}`),
          `--- haproxy\n${haproxyOut}`,
        ].join('\n'),
      stop: stopAll,
    };
  } catch (err) {
    const out = [...replicas.values()].map((r) => `--- ${r.name}\n${r.server.output()}`).join('\n');
    await stopAll();
    throw new Error(`${(err as Error).message}\n${out}\n--- haproxy\n${haproxyOut}`);
  }
}
