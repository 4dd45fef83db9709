// The shell's command reports from a real sandbox terminal, as `commandRun` checks read them: each
// command of a pipeline with its own exit status.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandsRan } from '../../src/engine/commandLine';
import { ShellIntegrationParser } from '../../src/engine/shellIntegration';
import type { SandboxView, ServerToClientEvents } from '@dockside/protocol';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

type Result = Parameters<ServerToClientEvents['checks:result']>[0];

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-shell-integration-'));
let server: RunningServer;
let socket: LearnerSocket;
let terminal: TerminalReader;

/** Types a line and waits for the next prompt; what the terminal showed meanwhile. */
async function line(text: string): Promise<string> {
  const from = terminal.text.length;
  const prompt = terminal.prompt(60_000);
  terminal.type(`${text}\r`);
  await prompt;
  return terminal.text.slice(from);
}

describe.runIf(sandboxesAvailable())('shell integration in a real sandbox terminal', () => {
  beforeAll(async () => {
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
      DOCKSIDE_POOL_SIZE: '0',
      DOCKSIDE_KEEP_SANDBOXES: '0',
    });
    const learner = await Learner.join(server.url);
    socket = learner.socket();
    const sandbox = await request<SandboxView>(socket, 'sandbox:ensure', {});
    if (!sandbox.ok) throw new Error(sandbox.error.message);
    const open = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
      sandboxId: sandbox.value.id,
      cols: 120,
      rows: 30,
    });
    if (!open.ok) throw new Error(open.error.message);
    terminal = new TerminalReader(socket, open.value.terminalId, open.value.scrollback);
    await terminal.waitFor('\x1b]633;A');
  }, 180_000);

  afterAll(async () => {
    socket?.close();
    await server?.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it('reports the status of each command of a pipeline: in `false | true`, false failed', async () => {
    // The report as the server reads it (the nonce is in the stream the learner's browser gets too).
    const stream = await line('false | true');
    // eslint-disable-next-line no-control-regex -- the report is an escape sequence
    const nonce = /\x1b\]633;D;\d+;[\d,]+;([0-9a-f]{32})\x07/.exec(stream)?.[1];
    expect(nonce, JSON.stringify(stream)).toBeDefined();
    const [event] = new ShellIntegrationParser(nonce!).feed(stream);
    expect(event).toEqual({ commandLine: 'false | true', exitCode: 0, pipeStatus: [1, 0] });
    expect(commandsRan(event!.commandLine, event!.exitCode, event!.pipeStatus)).toEqual([
      { command: 'false', exitCode: 1 },
      { command: 'true', exitCode: 0 },
    ]);
  });

  it('a failed `docker version` piped into `cat` does not pass "You asked for the client and server versions"', async () => {
    const results: Result[] = [];
    socket.on('checks:result', (r) => results.push(r));
    const version = () => results.at(-1)?.results.find((c) => c.id === 'version');
    socket.emit('lesson:focus', { lessonId: 'Docker_Intro', stepId: 'your-engine' });
    await expect.poll(() => version()?.status, { timeout: 30_000 }).toBe('failed');

    const before = results.length;
    await line('docker version --no-such-flag | cat');
    await expect.poll(() => results.length, { timeout: 30_000 }).toBeGreaterThan(before);
    await new Promise((r) => setTimeout(r, 1500)); // the re-run the command caused has reported
    expect(version()).toMatchObject({ status: 'failed', hint: { en: expect.stringMatching(/status [1-9]\d*/) } });

    await line('docker version | cat');
    await expect.poll(() => version()?.status, { timeout: 30_000 }).toBe('passed');
  });
});
