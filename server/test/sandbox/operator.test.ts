// `npm run sandboxes -- list | stop-all`, the operator's way to end sandboxes that outlive the server,
// through the real runtime in a data dir of its own.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { REPO_ROOT } from '../../src/paths';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-operator-'));
const rt = new NativeRuntime(dataDir);
const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 1024 ** 3 };

const sandboxes = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'sandboxes.mjs'), ...args], {
    env: { ...process.env, DOCKSIDE_DATA_DIR: dataDir },
    encoding: 'utf8',
  });

describe.runIf(sandboxesAvailable())('npm run sandboxes', () => {
  beforeAll(async () => {
    mkdirSync(path.join(dataDir, 'images'), { recursive: true });
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    await Promise.all([rt.create('op-one', 271, limits), rt.create('op-two', 272, limits)]);
  }, 120_000);

  afterAll(async () => {
    for (const s of await rt.list().catch(() => [])) await rt.destroy(s.id).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the sandboxes, refuses stop-all while a server runs, then ends every one', async () => {
    const list = sandboxes('list');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^op-one\trunning\t/m);
    expect(list.stdout).toMatch(/^op-two\trunning\t/m);
    expect(list.stdout).toContain('2 sandboxes');

    // An `npm start` serving from this data dir (its pid file names a live start.mjs).
    const server = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'scripts/start.mjs']);
    try {
      writeFileSync(path.join(dataDir, 'start.pid'), String(server.pid));
      const refused = sandboxes('stop-all');
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`the server is running (pid ${server.pid}); stop it first`);
      expect((await rt.list()).filter((s) => s.running)).toHaveLength(2);
    } finally {
      server.kill('SIGKILL');
    }
    await new Promise((r) => server.once('exit', r));

    const stopped = sandboxes('stop-all');
    expect(stopped.status).toBe(0);
    expect(stopped.stdout).toContain('2 of 2 sandboxes ended');
    expect(await rt.list()).toEqual([]);
    expect(sandboxes('nonsense').status).toBe(2);
  }, 120_000);
});
