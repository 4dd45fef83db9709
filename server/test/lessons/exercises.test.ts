// Each exercise, in a real sandbox of its own: the server prepares its starting state (with progress),
// its checks fail there, and pass after the solution's commands are typed in a terminal. An exercise
// that cannot be solved, a starting state that already passes, or a setup that fails, fails here.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONTENT_DIR, loadLessons } from '@dockside/lessons';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exerciseStepId, type ExerciseProgress, type SandboxView, type ServerToClientEvents } from '@dockside/protocol';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

type Result = Parameters<ServerToClientEvents['checks:result']>[0];

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-exercises-'));
let server: RunningServer;

/** The next checks result for a step that satisfies `until`. */
function nextResult(socket: LearnerSocket, stepId: string, until: (r: Result) => boolean, ms: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    let last: Result | undefined;
    const timer = setTimeout(() => {
      socket.off('checks:result', on);
      reject(new Error(`${stepId}: checks did not settle: ${JSON.stringify(last?.results)}`));
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

/** A learner with a running sandbox and a terminal at its first prompt. */
async function learnerWithTerminal() {
  const learner = await Learner.join(server.url);
  const socket = learner.socket();
  const sandbox = await request<SandboxView>(socket, 'sandbox:ensure', {});
  if (!sandbox.ok) throw new Error(sandbox.error.message);
  const open = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
    sandboxId: sandbox.value.id,
    cols: 160,
    rows: 40,
  });
  if (!open.ok) throw new Error(open.error.message);
  const terminal = new TerminalReader(socket, open.value.terminalId, open.value.scrollback);
  await terminal.firstPrompt();
  return { learner, socket, terminal };
}

/** Prepares an exercise, returning its answer and the progress pushed meanwhile. */
async function prepare(socket: LearnerSocket, lessonId: string, exerciseId: string, reset = false) {
  const progress: ExerciseProgress[] = [];
  const on = (p: ExerciseProgress) => p.exerciseId === exerciseId && progress.push(p);
  socket.on('exercise:progress', on);
  const answer = await request<{ state: string }>(socket, 'exercise:prepare', { lessonId, exerciseId, reset });
  socket.off('exercise:progress', on);
  if (!answer.ok) throw new Error(`${exerciseId}: ${answer.error.message}`);
  return { state: answer.value.state, progress };
}

async function typeLines(terminal: TerminalReader, lines: string[]) {
  for (const line of lines) {
    const prompt = terminal.prompt(240_000);
    terminal.type(`${line}\r`);
    await prompt;
  }
}

describe.runIf(sandboxesAvailable())('exercises, each in a real sandbox', () => {
  beforeAll(async () => {
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
      DOCKSIDE_POOL_SIZE: '0',
      // Small disks: ten sandboxes at once, beside other tests' on this machine.
      DOCKSIDE_SANDBOX_DISK: '1G',
    });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  for (const lesson of loadLessons())
    for (const exercise of lesson.exercises)
      it(`${lesson.id}/${exercise.id}: fails in its starting state, passes after its solution`, async () => {
        const { socket, terminal } = await learnerWithTerminal();
        const stepId = exerciseStepId(exercise.id);
        try {
          const prepared = await prepare(socket, lesson.id, exercise.id);
          expect(prepared.state).toBe('prepared');
          // Progress climbs to 100 with a message in both languages.
          expect(prepared.progress.at(-1)?.percent).toBe(100);
          expect(prepared.progress.length).toBe(exercise.setup.length + 2);
          expect(prepared.progress.every((p) => p.message.en && p.message.ko)).toBe(true);

          const before = nextResult(socket, stepId, () => true, 60_000);
          socket.emit('lesson:focus', { lessonId: lesson.id, stepId });
          const first = await before;
          expect(first.stepStatus).not.toBe('passed');
          expect(first.results.some((r) => r.status === 'failed' && r.hint?.en && r.hint.ko)).toBe(true);

          const passed = nextResult(socket, stepId, (r) => r.stepStatus === 'passed', 300_000);
          await typeLines(terminal, exercise.solution.commands);
          const after = await passed.catch((err: Error) => {
            throw new Error(`${err.message}\n--- terminal ---\n${terminal.text.slice(-3000)}`);
          });
          expect(after.results.every((r) => r.status === 'passed')).toBe(true);

          // Opened again (a reload), the state is left as the learner made it.
          expect((await prepare(socket, lesson.id, exercise.id)).state).toBe('ready');
        } finally {
          socket.close();
        }
      }, 600_000);

  it('a reset makes the starting state again: the solved outcome is gone, the recorded pass stays', async () => {
    const { learner, socket, terminal } = await learnerWithTerminal();
    const stepId = exerciseStepId('revive-web');
    try {
      await prepare(socket, 'Docker_Intro', 'revive-web');
      // Not the solution's commands: the learner's own way there.
      const passed = nextResult(socket, stepId, (r) => r.stepStatus === 'passed', 120_000);
      socket.emit('lesson:focus', { lessonId: 'Docker_Intro', stepId });
      await typeLines(terminal, ['docker rm -f web && docker run -d -p 8080:80 --name web nginx']);
      await passed;

      expect((await prepare(socket, 'Docker_Intro', 'revive-web', true)).state).toBe('prepared');
      const again = nextResult(socket, stepId, () => true, 60_000);
      socket.emit('lesson:focus', { lessonId: 'Docker_Intro', stepId });
      const result = await again;
      expect(result.results.find((r) => r.id === 'running')?.status).toBe('failed');
      expect(result.stepStatus).toBe('passed');
      const progress = (await (await learner.fetch('/api/progress/Docker_Intro')).json()) as {
        steps: Record<string, { status: string }>;
      };
      expect(progress.steps[stepId]?.status).toBe('passed');
    } finally {
      socket.close();
    }
  }, 300_000);

  it('an unknown exercise is refused in one line', async () => {
    const learner = await Learner.join(server.url);
    const socket = learner.socket();
    try {
      await request<SandboxView>(socket, 'sandbox:ensure', {});
      const answer = await request(socket, 'exercise:prepare', { lessonId: 'Docker_Intro', exerciseId: 'nope' });
      expect(answer).toMatchObject({
        ok: false,
        error: { code: 'not_found', message: 'no exercise nope in lesson Docker_Intro' },
      });
    } finally {
      socket.close();
    }
  }, 120_000);
});

describe.runIf(sandboxesAvailable())('an exercise whose starting state cannot be made', () => {
  const contentDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-broken-exercise-'));
  let broken: RunningServer;

  beforeAll(async () => {
    // Docker_Intro, whose first exercise pulls an image no registry has.
    cpSync(path.join(DEFAULT_CONTENT_DIR, 'Docker_Intro'), path.join(contentDir, 'Docker_Intro'), { recursive: true });
    const file = path.join(contentDir, 'Docker_Intro', 'exercises.json');
    const data = JSON.parse(readFileSync(file, 'utf8')) as { exercises: { setup: { image?: string }[] }[] };
    data.exercises[0]!.setup[0]!.image = 'no-such-image-anywhere';
    writeFileSync(file, JSON.stringify(data));
    broken = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: `file:${path.join(contentDir, 'db.sqlite')}`,
      DOCKSIDE_POOL_SIZE: '0',
      // Small disks: ten sandboxes at once, beside other tests' on this machine.
      DOCKSIDE_SANDBOX_DISK: '1G',
      DOCKSIDE_LESSONS_DIR: contentDir,
    });
  });

  afterAll(async () => {
    await broken?.stop();
    rmSync(contentDir, { recursive: true, force: true });
  });

  it('says so in one line, and a second try prepares it again rather than calling it ready', async () => {
    const learner = await Learner.join(broken.url);
    const socket = learner.socket();
    try {
      const sandbox = await request<SandboxView>(socket, 'sandbox:ensure', {});
      if (!sandbox.ok) throw new Error(sandbox.error.message);
      for (let attempt = 0; attempt < 2; attempt++) {
        const answer = await request(socket, 'exercise:prepare', {
          lessonId: 'Docker_Intro',
          exerciseId: 'revive-web',
        });
        expect(answer).toMatchObject({ ok: false, error: { code: 'exercise_failed' } });
        if (answer.ok) continue;
        expect(answer.error.message).toMatch(/^the exercise's starting state could not be prepared \(.+\); try again$/);
        expect(answer.error.message).not.toContain('\n');
      }
    } finally {
      socket.close();
    }
  }, 180_000);
});
