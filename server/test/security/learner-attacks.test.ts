// Attacks by one learner on another, through the real server and real sandboxes, each done the way it
// was reproduced before the boundary was sealed. Every test is named for the attack.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { FILE_EXIT } from '../../src/engine/runtime';
import type { SandboxView } from '../../src/realtime/events';
import { busyboxTar } from '../support/images';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

type Seat = { learner: Learner; socket: LearnerSocket; sandbox: SandboxView; terminal: TerminalReader };

async function seat(url: string): Promise<Seat> {
  const learner = await Learner.join(url);
  const socket = learner.socket();
  const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
  if (!r.ok) throw new Error(r.error.message);
  const open = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
    sandboxId: r.value.id,
    cols: 120,
    rows: 30,
  });
  if (!open.ok) throw new Error(open.error.message);
  const terminal = new TerminalReader(socket, open.value.terminalId, open.value.scrollback);
  await terminal.waitFor('\x1b]633;A');
  return { learner, socket, sandbox: r.value, terminal };
}

/** Runs a line in the learner's terminal; its output, up to the next prompt. */
async function shell(s: Seat, line: string): Promise<string> {
  const before = s.terminal.text.length;
  const prompt = s.terminal.prompt(60_000);
  s.terminal.type(`${line}\r`);
  await prompt;
  return s.terminal.text.slice(before);
}

describe.runIf(sandboxesAvailable())('attacks by one learner on another, through the server', () => {
  const rt = new NativeRuntime(SHARED_DATA_DIR);
  let server: RunningServer;
  let ben: Seat;
  let ana: Seat;

  beforeAll(async () => {
    const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-learner-attacks-'));
    server = await startServer({ DOCKSIDE_DATA_DIR: SHARED_DATA_DIR, DATABASE_URL: `file:${dbDir}/db.sqlite` });
    ben = await seat(server.url); // Ben's terminal is open in the server before Ana's shell starts
    ana = await seat(server.url);
  }, 180_000);

  afterAll(async () => {
    ana?.socket.close();
    ben?.socket.close();
    await server?.stop();
  });

  it("types into another learner's shell through a terminal descriptor the server leaked", async () => {
    // The shell's own descriptors, and nothing after them: the terminal (0, 1, 2) and bash's copy (255).
    const fds = await shell(ana, 'ls -1 /proc/$$/fd | tr "\\n" " "; echo');
    expect(fds).toMatch(/[\r\n]0 1 2 255 \r\n/);
    // Whatever else the shell holds, write a command into it, as into another terminal's master.
    await shell(
      ana,
      'for f in /proc/$$/fd/*; do case ${f##*/} in 0|1|2|255) ;; *) printf "touch /tmp/pwned-by-ana\\r" > $f ;; esac; done 2>/dev/null',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(ben.terminal.text).not.toContain('pwned-by-ana');
    const marker = await rt.file(ben.sandbox.id, 'read', ['/tmp/pwned-by-ana'], { under: '/' });
    expect(marker.code).toBe(FILE_EXIT.notFound);
  });

  it("points its engine socket at another learner's engine to read their image history", async () => {
    await rt.exec(ben.sandbox.id, ['docker', 'import', '-m', 'ben-secret-4411', '-', 'benimg'], {
      stdin: busyboxTar(),
    });
    await rt.exec(ana.sandbox.id, ['docker', 'import', '-', 'anaimg'], { stdin: busyboxTar() });
    const bensSocket = rt.dockerSocket(ben.sandbox.id);
    // Root inside replaces every socket it can find (and the old host-side directory) with a link.
    await shell(
      ana,
      `mkdir -p /run/docker-host; for s in /run/docker-host/docker.sock $(find / -xdev -type s -name "*.sock" 2>/dev/null); do rm -f $s; ln -s ${bensSocket} $s; done`,
    );
    const res = await ana.learner.fetch(`/api/sandboxes/${ana.sandbox.id}/images`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('anaimg');
    expect(body).not.toContain('benimg');
    const history = await ana.learner.fetch(`/api/sandboxes/${ana.sandbox.id}/images/benimg/layers`);
    expect(history.status).toBe(404);
    expect(await history.text()).not.toContain('ben-secret-4411');
  });
});
