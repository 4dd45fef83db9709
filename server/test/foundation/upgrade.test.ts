// An upgrade as an operator does it: `npm start` again while one serves. The new one sets up what
// changed while the old one still serves, then stops it; the learner's sandbox and terminal stay.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxView } from '@dockside/protocol';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript shared with the start script
import { runningServer } from '../../../scripts/running-server.mjs';
// @ts-expect-error plain JavaScript shared with the start script
import { serviceUser } from '../../../scripts/service-user.mjs';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { REPO_ROOT } from '../../src/paths';
import { Learner, request, TerminalReader } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { freePort } from '../support/server';

const user = serviceUser() as { uid: number; gid: number } | undefined;
// `npm start` serves from the default data dir only; a machine already serving from it is left alone.
const serving = runningServer() as number | undefined;

describe.runIf(sandboxesAvailable() && process.getuid?.() === 0 && SHARED_DATA_DIR === '/var/lib/dockside' && !serving)(
  'npm start while one serves (an upgrade)',
  () => {
    const starts: { child: ChildProcess; out: () => string }[] = [];
    let sandboxId = '';

    const npmStart = async (port: number, dbDir: string) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
        DOCKSIDE_POOL_SIZE: '0',
        DOCKSIDE_SANDBOX_DISK: '1G',
      };
      delete env.DOCKSIDE_DATA_DIR;
      delete env.DOCKSIDE_KEEP_SANDBOXES; // the default: kept
      const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts', 'start.mjs')], { cwd: REPO_ROOT, env });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const start = { child, out: () => out };
      starts.push(start);
      return start;
    };
    const until = async (what: string, cond: () => boolean | Promise<boolean>, ms: number, log: () => string) => {
      const end = Date.now() + ms;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${log().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    /** Whether `start` serves at `url`; an npm start that exited is a failure, with its output. */
    const serving = (start: { child: ChildProcess; out: () => string }, url: string) => async () => {
      if (start.child.exitCode !== null)
        throw new Error(`npm start exited with ${start.child.exitCode}:\n${start.out()}`);
      return fetch(`${url}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
    };

    afterAll(async () => {
      for (const s of starts) if (s.child.exitCode === null) s.child.kill('SIGTERM');
      await Promise.all(
        starts.map((s) => (s.child.exitCode === null ? new Promise((r) => s.child.once('exit', r)) : 0)),
      );
      if (sandboxId) await new NativeRuntime(SHARED_DATA_DIR).destroy(sandboxId).catch(() => {});
    });

    it('stops the running server once its set-up is done; the sandbox and the terminal stay', async () => {
      if (!user) throw new Error('no service user: run npm start or npm test as root first');
      const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-upgrade-'));
      chownSync(dbDir, user.uid, user.gid);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const first = await npmStart(port, dbDir);
      await until('the first npm start to serve', serving(first, url), 240_000, first.out);

      const ana = await Learner.join(url);
      let socket = ana.socket();
      const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
      if (!r.ok) throw new Error(r.error.message);
      sandboxId = r.value.id;
      const open = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
        sandboxId,
        cols: 100,
        rows: 30,
      });
      if (!open.ok) throw new Error(open.error.message);
      const terminal = new TerminalReader(socket, open.value.terminalId, open.value.scrollback);
      await terminal.firstPrompt();
      terminal.type('echo before-$((40+1))\r');
      await terminal.waitFor('before-41');
      socket.close();

      const second = await npmStart(port, dbDir);
      await until('the first npm start to end', () => first.child.exitCode !== null, 240_000, second.out);
      expect(second.out()).toContain(`restarting the server (pid ${first.child.pid}); sandboxes and terminals stay`);
      await until('the second npm start to serve', serving(second, url), 120_000, second.out);

      socket = ana.socket();
      const again = await request<SandboxView>(socket, 'sandbox:ensure', {});
      expect(again.ok && again.value.id).toBe(sandboxId);
      const reopened = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
        sandboxId,
        terminalId: open.value.terminalId,
        cols: 100,
        rows: 30,
      });
      if (!reopened.ok) throw new Error(reopened.error.message);
      expect(reopened.value.terminalId).toBe(open.value.terminalId);
      expect(reopened.value.scrollback).toContain('before-41');
      const after = new TerminalReader(socket, open.value.terminalId, reopened.value.scrollback);
      after.type('echo after-$((40+2))\r');
      await after.waitFor('after-42');
      socket.close();
    }, 600_000);
  },
);
