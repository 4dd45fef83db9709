// Each lesson, driven through a real sandbox as a learner would: for every step, its checks fail
// before the learner types the step's commands and pass after, and the output its text quotes (the
// step's `output`) is in the terminal. A broken check, a lesson that cannot be completed, or text that
// promises output the learner does not see, fails here.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLessons } from '@dockside/lessons';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxView, ServerToClientEvents } from '@dockside/protocol';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

type Result = Parameters<ServerToClientEvents['checks:result']>[0];

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-lessons-'));
let server: RunningServer;

/** The next checks result for a step that satisfies `until`. */
function nextResult(socket: LearnerSocket, stepId: string, until: (r: Result) => boolean, ms: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    let last: Result | undefined;
    const timer = setTimeout(() => {
      socket.off('checks:result', on);
      reject(new Error(`step ${stepId}: checks did not settle: ${JSON.stringify(last?.results)}`));
    }, ms);
    const on = (r: Result) => {
      if (r.stepId !== stepId) return;
      last = r;
      if (until(r)) {
        clearTimeout(timer);
        socket.off('checks:result', on);
        resolve(r);
      }
    };
    socket.on('checks:result', on);
  });
}

/** Terminal output as the learner reads it: no escape sequences, no carriage returns. */
/* eslint-disable no-control-regex -- escape sequences are what is removed */
const plain = (text: string) =>
  text
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '')
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[()][0-9A-Za-z]|\x1b[=>78M]/g, '')
    .replace(/\r/g, '');
/* eslint-enable no-control-regex */

describe.runIf(sandboxesAvailable())('lessons, step by step in a real sandbox', () => {
  beforeAll(async () => {
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
      DOCKSIDE_POOL_SIZE: '0',
    });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  for (const lesson of loadLessons()) {
    it(`${lesson.id}: every step's checks fail before and pass after its commands`, async () => {
      const learner = await Learner.join(server.url);
      const socket = learner.socket();
      try {
        const sandbox = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: lesson.id });
        if (!sandbox.ok) throw new Error(sandbox.error.message);
        const open = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
          sandboxId: sandbox.value.id,
          cols: 120,
          rows: 40,
        });
        if (!open.ok) throw new Error(open.error.message);
        const terminal = new TerminalReader(socket, open.value.terminalId, open.value.scrollback);
        await terminal.firstPrompt();

        for (const step of lesson.steps) {
          const before = nextResult(socket, step.id, () => true, 30_000);
          socket.emit('lesson:focus', { lessonId: lesson.id, stepId: step.id });
          const first = await before;
          expect({ step: step.id, status: first.stepStatus }).not.toEqual({ step: step.id, status: 'passed' });
          expect(first.results.some((r) => r.status === 'failed' && r.hint?.en && r.hint.ko)).toBe(true);

          const passed = nextResult(socket, step.id, (r) => r.stepStatus === 'passed', 180_000);
          const from = terminal.text.length;
          let inContainer = false;
          for (const line of step.run) {
            const prompt = terminal.prompt(180_000);
            prompt.catch(() => {});
            terminal.type(`${line}\r`);
            if (/\s-(it|ti)\b/.test(line)) inContainer = true;
            // An interactive container's shell has no shell-integration prompt: give each line a moment.
            if (inContainer && line.trim() !== 'exit') {
              await new Promise((r) => setTimeout(r, 2500));
              continue;
            }
            inContainer = false;
            await prompt;
          }
          const after = await passed.catch((err: Error) => {
            throw new Error(`${err.message}\n--- terminal ---\n${terminal.text.slice(-3000)}`);
          });
          expect(after.results.every((r) => r.status === 'passed')).toBe(true);
          // What the step's text quotes of the output is what the learner saw.
          const seen = plain(terminal.text.slice(from));
          const unseen = (step.output ?? []).filter((quoted) => !seen.includes(quoted));
          expect(
            unseen,
            `step ${step.id}: quoted output not in the terminal, which shows:\n${seen.slice(-3000)}`,
          ).toEqual([]);
        }
        const progress = (await (await learner.fetch(`/api/progress/${lesson.id}`)).json()) as {
          steps: Record<string, { status: string }>;
        };
        expect(Object.values(progress.steps).filter((s) => s.status === 'passed')).toHaveLength(lesson.steps.length);
      } finally {
        socket.close();
      }
    }, 900_000);
  }
});
