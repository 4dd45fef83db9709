// The operator's recipe itself: `npm run start:replicas -- 2` with a PostgreSQL database serves through
// HAProxy from both replicas, restarts one killed with -9 (no request through the balancer fails
// meanwhile), and stops everything on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript shared with the start script
import { runningServer } from '../../../scripts/running-server.mjs';
import { REPLICA_HEADER } from '../../../scripts/haproxy.mjs';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { REPO_ROOT } from '../../src/paths';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

// Like `npm start`, it serves from the default data dir only; a machine already serving from it is left alone.
const serving = runningServer() as number | undefined;
const ADMIN_URL = process.env.DOCKSIDE_TEST_POSTGRES_URL;
const dbName = `dockside_start_replicas_${process.pid}`;

async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A port with the next two free as well (the balancer's, then a's and b's). */
async function threeFreePorts(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    if ((await free(base)) && (await free(base + 1)) && (await free(base + 2))) return base;
  }
}

describe.runIf(sandboxesAvailable() && process.getuid?.() === 0 && SHARED_DATA_DIR === '/var/lib/dockside' && !serving)(
  'npm run start:replicas -- 2',
  () => {
    let child: ChildProcess | undefined;
    let databaseUrl = '';

    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!databaseUrl) return;
      const prefix = `sb-${createHash('sha256').update(databaseUrl).digest('hex').slice(0, 6)}-`;
      const rt = new NativeRuntime(SHARED_DATA_DIR);
      for (const s of await rt.list()) if (s.id.startsWith(prefix)) await rt.destroy(s.id).catch(() => {});
      await pgAdmin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    });

    it('serves from both replicas through HAProxy, restarts one killed with -9, stops all on SIGTERM', async () => {
      if (!ADMIN_URL) throw new Error('DOCKSIDE_TEST_POSTGRES_URL is not set (npm test starts PostgreSQL and sets it)');
      await pgAdmin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await pgAdmin(`CREATE DATABASE ${dbName}`);
      const u = new URL(ADMIN_URL);
      u.pathname = `/${dbName}`;
      databaseUrl = u.toString();
      const port = await threeFreePorts();
      const url = `http://127.0.0.1:${port}`;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        DOCKSIDE_POOL_SIZE: '0',
      };
      delete env.DOCKSIDE_DATA_DIR;
      delete env.DOCKSIDE_KEEP_SANDBOXES;
      child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts', 'replicas.mjs'), '2'], { cwd: REPO_ROOT, env });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const until = async (what: string, cond: () => boolean | Promise<boolean>, ms: number) => {
        const end = Date.now() + ms;
        while (!(await cond())) {
          if (child!.exitCode !== null) throw new Error(`start:replicas exited with ${child!.exitCode}:\n${out}`);
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${out.slice(-4000)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await until('the balancer to serve', () => out.includes(`serving on ${url} through HAProxy`), 300_000);
      const servedBy = async () => {
        const res = await fetch(`${url}/healthz`);
        await res.arrayBuffer();
        return `${res.status} ${res.headers.get(REPLICA_HEADER)}`;
      };
      const first = await Promise.all(Array.from({ length: 4 }, servedBy));
      expect(new Set(first)).toEqual(new Set(['200 a', '200 b']));
      const pidOf = (name: string) => {
        const all = [
          ...out.matchAll(
            new RegExp(`replica ${name} \\(pid (\\d+)\\)|replica ${name} restarted \\(pid (\\d+)\\)`, 'g'),
          ),
        ];
        return Number(all.at(-1)?.[1] ?? all.at(-1)?.[2]);
      };
      const a = pidOf('a');
      const b = pidOf('b');
      expect(a).toBeGreaterThan(1);

      // A replica dies: nothing a client sends through the balancer fails; the script starts it again.
      process.kill(a, 'SIGKILL');
      const meanwhile: string[] = [];
      for (let i = 0; i < 10; i++) meanwhile.push(await servedBy());
      expect(meanwhile).toEqual(Array(10).fill('200 b'));
      await until('a restart', () => out.includes('dockside: replica a exited (SIGKILL)'), 10_000);
      await until('replica a back in the balancer', async () => (await servedBy()) === '200 a', 120_000);
      expect(pidOf('a')).not.toBe(a);
      expect(out).toMatch(/Server replicas\/a is DOWN/);

      // SIGTERM (a service manager, Ctrl-C): everything it started ends, and it says it no longer serves.
      const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      for (const pid of [pidOf('a'), b])
        expect(existsSync(`/proc/${pid}`), `replica pid ${pid} left running`).toBe(false);
      expect(runningServer()).toBeUndefined();
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    }, 420_000);
  },
);
