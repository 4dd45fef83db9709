// `npm start` runs the server as the unprivileged service user; only native/'s setuid runtime acts as
// root for it. This starts the server that way and drives a learner's sandbox through it.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript shared with the start script
import { serviceUser } from '../../../scripts/service-user.mjs';
import type { SandboxView } from '@dockside/protocol';
import { NATIVE_BUILD_DIR } from '../../src/paths';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

const user = serviceUser() as { uid: number; gid: number } | undefined;
const bin = path.join(NATIVE_BUILD_DIR, 'dockside-sandbox');

describe.runIf(sandboxesAvailable() && process.getuid?.() === 0)('the server as the service user', () => {
  let server: RunningServer;
  let dbDir: string;
  let socket: LearnerSocket;
  let sandboxId = '';

  beforeAll(async () => {
    // setup (npm start / npm test) made the user and installed the runtime for it.
    if (!user) throw new Error('no service user: run npm start or npm test as root first');
    dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-unprivileged-'));
    chownSync(dbDir, user.uid, user.gid);
    server = await startServer(
      { DOCKSIDE_DATA_DIR: SHARED_DATA_DIR, DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}` },
      user,
    );
  });

  afterAll(async () => {
    socket?.close();
    await server?.stop();
  });

  it('runs with no root power, and its files are its own', () => {
    const status = spawnSync('cat', [`/proc/${server.serverPid()}/status`], { encoding: 'utf8' }).stdout;
    const ids = (field: string) =>
      status
        .match(new RegExp(`^${field}:\\s+(.*)$`, 'm'))![1]!
        .split(/\s+/)
        .map(Number);
    expect(ids('Uid')).toEqual([user!.uid, user!.uid, user!.uid, user!.uid]);
    expect(ids('Gid')).toEqual([user!.gid, user!.gid, user!.gid, user!.gid]);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(statSync(path.join(dbDir, 'db.sqlite')).uid).toBe(user!.uid);
  });

  it('gives a learner a sandbox with a terminal, a Docker Engine and files, through the setuid runtime', async () => {
    const ana = await Learner.join(server.url);
    socket = ana.socket();
    const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
    if (!r.ok) throw new Error(`${r.error.message}\n${server.output()}`);
    const sandbox = r.value;
    sandboxId = sandbox.id;
    const t = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
      sandboxId: sandbox.id,
      cols: 100,
      rows: 30,
    });
    if (!t.ok) throw new Error(t.error.message);
    const terminal = new TerminalReader(socket, t.value.terminalId, t.value.scrollback);
    await terminal.firstPrompt();
    terminal.type("docker info --format 'engine={{.ServerVersion}}' && id -u\n");
    await terminal.waitFor(/engine=\d+\.\d+/);
    await terminal.waitFor(/\r\n0\r\n/); // root inside the sandbox, unmapped outside

    // The server reaches the sandbox's engine socket itself (the Layers API lists its images)...
    const images = await ana.fetch(`/api/sandboxes/${sandbox.id}/images`);
    expect(images.status, await images.clone().text()).toBe(200);
    // ...and its files, through the runtime.
    const put = await ana.fetch(`/api/sandboxes/${sandbox.id}/file?path=${encodeURIComponent('/workspace/x.txt')}`, {
      method: 'PUT',
      json: { content: 'written by the unprivileged server\n' },
    });
    expect(put.status, await put.text()).toBe(200);
    terminal.type('cat /workspace/x.txt\n');
    await terminal.waitFor('written by the unprivileged server');

    // The engine's socket is open to the server's group only.
    const run = path.join(SHARED_DATA_DIR, 'sandboxes', sandbox.id, 'run');
    expect(statSync(run).gid).toBe(user!.gid);
    expect(statSync(run).mode & 0o777).toBe(0o750);
  });

  it('installs the runtime setuid root for the service group only, and it ignores a data dir from that caller', () => {
    const st = statSync(bin);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([0, user!.gid, 0o4750]);
    // (spawnSync switches ids before exec; setpriv would exec still holding root's capabilities.)
    const nobody = spawnSync(bin, ['list', '--json'], { uid: 65534, gid: 65534 });
    expect(nobody.error?.message).toMatch(/EACCES/);
    // The service user cannot point the runtime elsewhere: it still lists the real sandboxes.
    const listed = spawnSync(bin, ['list', '--json'], {
      uid: user!.uid,
      gid: user!.gid,
      env: { ...process.env, DOCKSIDE_DATA_DIR: dbDir },
      encoding: 'utf8',
    });
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((s) => s.id)).toContain(sandboxId);
  });

  it("stops an exec it started, though the runtime switched to the sandbox's ids, and its children with it", () => {
    // The server's own way: spawn the runtime, kill it with SIGKILL after a second. Once it had switched
    // ids the kill failed (EPERM) and both sleeps ran their 8 s.
    const script = `
      const { spawn } = require('node:child_process');
      const t0 = Date.now();
      const c = spawn(${JSON.stringify(bin)}, ['exec', ${JSON.stringify(sandboxId)}, '--', 'sh', '-c', 'sleep 8 & sleep 8'], { stdio: 'pipe' });
      setTimeout(() => {
        let kill = 'ok';
        try { process.kill(c.pid, 'SIGKILL'); } catch (e) { kill = e.code; }
        c.on('close', () => console.log(JSON.stringify({ kill, ms: Date.now() - t0 })));
      }, 1000);`;
    const r = spawnSync(process.execPath, ['-e', script], { uid: user!.uid, gid: user!.gid, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { kill, ms } = JSON.parse(r.stdout) as { kill: string; ms: number };
    expect(kill).toBe('ok');
    expect(ms).toBeLessThan(3000);
    const left = spawnSync(bin, ['exec', sandboxId, '--', 'sh', '-c', 'sleep 0.3; pgrep -c -x sleep || true'], {
      encoding: 'utf8',
    });
    expect(left.stdout.trim()).toBe('0');
  });
});
