// Attacks by one learner on another, through the real server and real sandboxes, each done the way it
// was reproduced before the boundary was sealed. Every test is named for the attack.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { FILE_EXIT } from '../../src/engine/runtime';
import type { ChecksResult, SandboxView } from '@dockside/protocol';
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

  it('passes a commandRun check by printing the shell-integration report instead of running the command', async () => {
    const results: ChecksResult[] = [];
    ben.socket.on('checks:result', (r) => results.push(r));
    const version = () => results.at(-1)?.results.find((c) => c.id === 'version')?.status;
    /** The check's status once a new result has come and the checks have been quiet for a moment. */
    const settled = async (after: number) => {
      const end = Date.now() + 30_000;
      let seen = results.length;
      let lastChange = Date.now();
      while (results.length <= after || Date.now() - lastChange < 1500) {
        if (results.length !== seen) [seen, lastChange] = [results.length, Date.now()];
        if (Date.now() > end) throw new Error(`no checks result; terminal shows:\n${ben.terminal.text.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return version();
    };
    ben.socket.emit('lesson:focus', { lessonId: 'Docker_Intro', stepId: 'your-engine' });
    expect(await settled(0)).toBe('failed');

    // The report the prompt hook prints, faked: the old format, ours without the nonce, ours with a guess.
    const hexed = Buffer.from('docker version').toString('hex');
    const guess = '0123456789abcdef0123456789abcdef';
    let before = results.length;
    await shell(
      ben,
      `printf '\\e]633;E;docker version\\a\\e]633;D;0\\a\\e]633;E;${hexed}\\a\\e]633;D;0\\a\\e]633;E;${hexed};${guess}\\a\\e]633;D;0;${guess}\\a'`,
    );
    expect(await settled(before)).toBe('failed');
    // Nor can a program find the nonce in the environment of the shell or its own.
    const env = await shell(ben, 'cat /proc/$$/environ /proc/self/environ | tr "\\0" "\\n" | grep -c NONCE');
    expect(env).toMatch(/\D0\r\n/);
    // Nor in the command line of any process the learner can see (the runtime's, which brought it).
    const argv = await shell(ben, 'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" "\\n" | grep -c "NONCE=[0-9a-f]"');
    expect(argv).toMatch(/\D0\r\n/);

    before = results.length;
    await shell(ben, 'docker version');
    expect(await settled(before)).toBe('passed');
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
