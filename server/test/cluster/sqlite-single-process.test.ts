// SQLite is the single-process default: a second server on the same SQLite database is refused with one
// clear line and a failing exit code, and a server that crashed (kill -9) leaves nothing that blocks the
// next start. Real server processes, each with the data dir the operator would give both.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runMain, startServer, type RunningServer } from '../support/server';

describe('one server process per SQLite database', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-h2-sqlite-'));
  const env = { DOCKSIDE_DATA_DIR: dataDir, DOCKSIDE_POOL_SIZE: '0', DOCKSIDE_KEEP_SANDBOXES: '0' };
  let first: RunningServer | undefined;

  afterAll(async () => {
    await first?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a second process on the same SQLite database with one line on stderr, and the first serves on', async () => {
    first = await startServer(env);
    const second = await runMain({ ...env, PORT: String(await freePort()), HOST: '127.0.0.1' });
    expect(second.code).not.toBe(0);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr.trim()).toBe(
      `dockside: another server is already running on the SQLite database ${path.join(dataDir, 'server', 'dockside.db')}; SQLite serves one process: stop that one, or set DATABASE_URL=postgres://… to run several`,
    );
    expect(second.stdout).not.toContain('serving on');
    const health = await fetch(`${first.url}/healthz`);
    expect((await health.json()) as { database: { ok: boolean } }).toMatchObject({ database: { ok: true } });
  });

  it('starts again at once after the first was killed (kill -9): a crash leaves no lock behind', async () => {
    const exited = new Promise((r) => first!.child.once('exit', r));
    process.kill(first!.serverPid(), 'SIGKILL');
    await exited;
    first = await startServer(env);
    expect((await fetch(`${first.url}/healthz`)).status).toBeLessThan(600);
    // And it holds the lock in turn.
    const another = await runMain({ ...env, PORT: String(await freePort()), HOST: '127.0.0.1' });
    expect(another.code).not.toBe(0);
    expect(another.stderr).toMatch(/^dockside: another server is already running on the SQLite database/);
  });

  it('lets the next server start after a clean stop', async () => {
    await first!.stop();
    first = await startServer(env);
    expect((await fetch(`${first.url}/healthz`)).status).toBeLessThan(600);
  });
});
