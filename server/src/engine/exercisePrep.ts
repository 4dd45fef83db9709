// An exercise's starting state, made in the learner's sandbox before the exercise opens: its files copied
// into /workspace/<id>/, then its setup actions in order (pull, build, containers left running, exited or
// created), each reported as progress. Everything goes through the sandbox's engine API and the runtime's
// file operations from outside: none of the learner's programs runs for it. A folder /workspace/<id>
// marks an exercise prepared in that sandbox (removed again when an action fails), so a reload or a
// restarted server does not undo their work; a reset removes what the setup makes and prepares it again.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { pack } from 'tar-stream';
import type { Exercise, Lesson, SetupAction } from '@dockside/lessons';
import type { ExerciseProgress } from '@dockside/protocol';
import { DocksideError } from '../errors';
import type { DockerClients } from './dockerClients';
import type { Runtime } from './runtime';

/** How long a container left `exited` may take to exit by itself before it is stopped. */
const EXIT_WAIT_MS = 15_000;
const PULL_RETRY_MS = 2000;

/** The starting state could not be made (a message the learner reads, in English). */
export class ExercisePrepError extends DocksideError {
  constructor(message: string) {
    super(500, 'exercise_failed', message);
  }
}

type Say = { en: string; ko: string };

function describe(action: SetupAction): Say {
  switch (action.do) {
    case 'pull':
      return { en: `Pulling ${action.image}`, ko: `${action.image} 받는 중` };
    case 'build':
      return { en: `Building ${action.tag}`, ko: `${action.tag} 빌드하는 중` };
    case 'container':
      return { en: `Creating the container ${action.name}`, ko: `${action.name} 컨테이너 만드는 중` };
  }
}

/** Reads a build's or a pull's progress stream to its end; the engine's first error fails it. */
function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: { error?: string; errorDetail?: { message?: string } }) => {
        if (event.error) reject(new Error(event.errorDetail?.message ?? event.error));
      },
    ),
  );
}

/** What the engine said, on one line and short enough that the whole message reaches the learner. */
const engineSaid = (err: unknown) => {
  const said = (err as Error).message.replace(/\s+/g, ' ').trim();
  return said.length > 200 ? `${said.slice(0, 199)}…` : said;
};

const notFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

export class ExercisePrep {
  private readonly running = new Map<string, Promise<'prepared' | 'ready'>>();

  constructor(
    private readonly runtime: Runtime,
    private readonly dockers: DockerClients,
    private readonly lessons: () => Lesson[],
  ) {}

  find(lessonId: string, exerciseId: string): Exercise | undefined {
    return this.lessons()
      .find((l) => l.id === lessonId)
      ?.exercises.find((e) => e.id === exerciseId);
  }

  /**
   * Makes the exercise's starting state in the sandbox unless it was made there before ('ready'), or
   * again from scratch with `reset`. One preparation at a time per sandbox and exercise.
   */
  prepare(
    sandboxId: string,
    lessonsDir: string,
    lessonId: string,
    exerciseId: string,
    opts: { reset: boolean; progress: (p: ExerciseProgress) => void },
  ): Promise<'prepared' | 'ready'> {
    const exercise = this.find(lessonId, exerciseId);
    if (!exercise) throw new DocksideError(404, 'not_found', `no exercise ${exerciseId} in lesson ${lessonId}`);
    const key = `${sandboxId}/${lessonId}/${exerciseId}`;
    const busy = this.running.get(key);
    if (busy) return busy;
    const job = this.run(sandboxId, path.join(lessonsDir, lessonId, 'exercises', exerciseId), lessonId, exercise, opts)
      .catch((err: unknown) => {
        if (err instanceof DocksideError) throw err;
        throw new ExercisePrepError(
          `the exercise's starting state could not be prepared (${engineSaid(err)}); try again`,
        );
      })
      .finally(() => this.running.delete(key));
    this.running.set(key, job);
    return job;
  }

  private async run(
    sandboxId: string,
    filesDir: string,
    lessonId: string,
    exercise: Exercise,
    { reset, progress }: { reset: boolean; progress: (p: ExerciseProgress) => void },
  ): Promise<'prepared' | 'ready'> {
    const folder = `/workspace/${exercise.id}`;
    const say = (done: number, total: number, message: Say) =>
      progress({ lessonId, exerciseId: exercise.id, percent: Math.round((done / total) * 100), message });
    const exists = (await this.runtime.file(sandboxId, 'list', [folder])).code === 0;
    if (exists && !reset) {
      say(1, 1, { en: 'Ready', ko: '준비 완료' });
      return 'ready';
    }
    const docker = this.dockers.get(sandboxId);
    const total = exercise.setup.length + 1;
    say(0, total, { en: 'Copying the exercise files', ko: '연습 파일 복사하는 중' });
    // What the setup makes goes first: its containers (they hold images and ports), then its folder.
    for (const action of exercise.setup)
      if (action.do === 'container')
        await docker
          .getContainer(action.name)
          .remove({ force: true })
          .catch((err: unknown) => {
            if (!notFound(err)) throw err;
          });
    if (exists) await this.file(sandboxId, 'remove', [folder]);
    await this.file(sandboxId, 'create', [folder, 'dir']);
    for (const name of exercise.files) {
      const parts = name.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = `${folder}/${parts.slice(0, i).join('/')}`;
        if ((await this.runtime.file(sandboxId, 'list', [dir])).code !== 0)
          await this.file(sandboxId, 'create', [dir, 'dir']);
      }
      await this.file(sandboxId, 'write', [`${folder}/${name}`], readFileSync(path.join(filesDir, name)));
    }
    try {
      for (const [i, action] of exercise.setup.entries()) {
        say(i + 1, total, describe(action));
        await this.act(docker, filesDir, exercise, action);
      }
    } catch (err) {
      // Half made is not made: without its folder, the next try prepares it again.
      await this.runtime.file(sandboxId, 'remove', [folder]).catch(() => undefined);
      throw err;
    }
    say(total, total, { en: 'Ready', ko: '준비 완료' });
    return 'prepared';
  }

  private async file(sandboxId: string, op: 'create' | 'write' | 'remove', args: string[], stdin?: Buffer) {
    const r = await this.runtime.file(sandboxId, op, args, { stdin });
    if (r.code !== 0) throw new Error(`${op} ${args[0]}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  private async act(docker: Docker, filesDir: string, exercise: Exercise, action: SetupAction): Promise<void> {
    switch (action.do) {
      case 'pull': {
        // An image the engine has already is as pulled: a second pull would only ask the registry again.
        const present = await docker
          .getImage(action.image)
          .inspect()
          .then(() => true)
          .catch((err: unknown) => {
            if (notFound(err)) return false;
            throw err;
          });
        if (present) return;
        // Once more after a moment: the registry may be restarting (a server upgrade), and a learner
        // should not have to press "try again" for that.
        try {
          return await follow(docker, await docker.pull(action.image));
        } catch {
          await new Promise((r) => setTimeout(r, PULL_RETRY_MS));
          return follow(docker, await docker.pull(action.image));
        }
      }
      case 'build': {
        // The context is the exercise's own files under `context`, as the linter checked them.
        const tar = pack();
        const prefix = action.context === '.' ? '' : `${action.context.replace(/\/+$/, '')}/`;
        for (const name of exercise.files.filter((f) => f.startsWith(prefix)))
          tar.entry({ name: name.slice(prefix.length), mode: 0o644 }, readFileSync(path.join(filesDir, name)));
        tar.finalize();
        const chunks: Buffer[] = [];
        for await (const chunk of tar) chunks.push(chunk as Buffer);
        const stream = await docker.buildImage(Readable.from([Buffer.concat(chunks)]), {
          t: action.tag,
          dockerfile: action.dockerfile ?? 'Dockerfile',
        });
        return follow(docker, stream);
      }
      case 'container': {
        const ports = (action.ports ?? []).map((p) => p.split(':') as [string, string]);
        const container = await docker.createContainer({
          name: action.name,
          Image: action.image,
          Cmd: action.command,
          Env: action.env,
          ExposedPorts: Object.fromEntries(ports.map(([, c]) => [`${c}/tcp`, {}])),
          HostConfig: {
            PortBindings: Object.fromEntries(ports.map(([h, c]) => [`${c}/tcp`, [{ HostPort: h }]])),
          },
        });
        if (action.state === 'created') return;
        await container.start();
        if (action.state === 'running') return;
        // Left to exit by itself (a broken start); one that does not is stopped.
        const exited = await Promise.race([
          container.wait().then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), EXIT_WAIT_MS)),
        ]);
        if (!exited) await container.stop({ t: 1 });
        return;
      }
    }
  }
}
