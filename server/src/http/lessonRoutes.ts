// Lessons and progress: the catalogue, hints, solutions, skips. (The player's lesson comes with its page:
// web/lib/catalog.ts.)
import { z } from 'zod';
import type { Lesson } from '@dockside/lessons';
import { exerciseStepId, isStepDone } from '@dockside/protocol';
import type { ApiDeps } from './deps';
import { HttpError } from './respond';
import { parse, type Route } from './router';

function findLesson(lessons: Lesson[], lessonId: string): Lesson {
  const lesson = lessons.find((l) => l.id === lessonId);
  if (!lesson) throw new HttpError(404, 'not_found', `no lesson ${lessonId}`);
  return lesson;
}

function findStep(lesson: Lesson, stepId: string): Lesson['steps'][number] {
  const step = lesson.steps.find((s) => s.id === stepId);
  if (!step) throw new HttpError(404, 'not_found', `no step ${stepId} in lesson ${lesson.id}`);
  return step;
}

function findExercise(lesson: Lesson, exerciseId: string): Lesson['exercises'][number] {
  const exercise = lesson.exercises.find((e) => e.id === exerciseId);
  if (!exercise) throw new HttpError(404, 'not_found', `no exercise ${exerciseId} in lesson ${lesson.id}`);
  return exercise;
}

const HintIndex = z.object({ index: z.number().int().min(0).max(50) });
const ID = '([A-Za-z0-9_-]{1,100})';

export const lessonRoutes: Route<ApiDeps>[] = [
  {
    method: 'GET',
    path: /^\/api\/lessons$/,
    handle: async (_ctx, { lessons }) =>
      lessons().map(({ id, title, summary, level, minutes, steps }) => ({
        id,
        title,
        summary,
        level,
        minutes,
        steps: steps.map((s) => ({ id: s.id, title: s.title })),
      })),
  },
  {
    // Every lesson's progress at a glance, and the step to continue from (the most recent one worked on).
    method: 'GET',
    path: /^\/api\/progress$/,
    handle: async ({ learnerId }, { lessons, progress }) => {
      const rows = await progress.forLearner(learnerId);
      const all = lessons();
      const summary = all.map((lesson) => {
        const mine = rows.filter((r) => r.lessonId === lesson.id);
        const finished = new Set(mine.filter((r) => isStepDone(r.status)).map((r) => r.stepId));
        const next = lesson.steps.find((s) => !finished.has(s.id));
        return {
          lessonId: lesson.id,
          done: lesson.steps.filter((s) => finished.has(s.id)).length,
          total: lesson.steps.length,
          nextStepId: next?.id ?? null,
          updatedAt: mine[0]?.updatedAt.toISOString() ?? null,
        };
      });
      const recent = rows.find((r) => summary.some((s) => s.lessonId === r.lessonId && s.nextStepId));
      const resume = recent ? summary.find((s) => s.lessonId === recent.lessonId)! : null;
      return { lessons: summary, resume: resume && { lessonId: resume.lessonId, stepId: resume.nextStepId } };
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/progress/${ID}$`),
    handle: async ({ learnerId, params }, { lessons, progress }) => {
      const lesson = findLesson(lessons(), params[0]!);
      const steps = await progress.forLesson(learnerId, lesson.id);
      const current = lesson.steps.find((s) => !isStepDone(steps[s.id]?.status)) ?? lesson.steps.at(-1)!;
      return { lessonId: lesson.id, steps, currentStepId: current.id };
    },
  },
  {
    // An exercise's hints, one at a time, like a step's.
    method: 'POST',
    path: new RegExp(`^/api/progress/${ID}/exercises/${ID}/hint$`),
    handle: async ({ params, body }, { lessons }) => {
      const exercise = findExercise(findLesson(lessons(), params[0]!), params[1]!);
      const { index } = parse(HintIndex, body ?? {});
      if (index >= exercise.hints.length) throw new HttpError(404, 'not_found', 'this exercise has no more hints');
      return { hint: exercise.hints[index], index, remaining: exercise.hints.length - index - 1 };
    },
  },
  {
    // The solution's text (never its commands); the exercise is then recorded as solved.
    method: 'POST',
    path: new RegExp(`^/api/progress/${ID}/exercises/${ID}/solution$`),
    handle: async ({ learnerId, client, params }, { lessons, engine, progress }) => {
      const lesson = findLesson(lessons(), params[0]!);
      const exercise = findExercise(lesson, params[1]!);
      await engine.admit(learnerId, client);
      const status = await progress.set(learnerId, lesson.id, exerciseStepId(exercise.id), 'solved');
      return { solution: exercise.solution.text, status };
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/progress/${ID}/${ID}/hint$`),
    handle: async ({ params, body }, { lessons }) => {
      const step = findStep(findLesson(lessons(), params[0]!), params[1]!);
      const { index } = parse(HintIndex, body ?? {});
      const hints = step.hints;
      if (index >= hints.length) throw new HttpError(404, 'not_found', 'this step has no more hints');
      return { hint: hints[index], index, remaining: hints.length - index - 1 };
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/progress/${ID}/${ID}/solution$`),
    handle: async ({ learnerId, client, params }, { lessons, engine, progress }) => {
      const lesson = findLesson(lessons(), params[0]!);
      const step = findStep(lesson, params[1]!);
      if (!step.solution) throw new HttpError(404, 'not_found', 'this step has no solution to show');
      await engine.admit(learnerId, client);
      const status = await progress.set(learnerId, lesson.id, step.id, 'solved');
      return { solution: step.solution, status };
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/progress/${ID}/${ID}/skip$`),
    handle: async ({ learnerId, client, params }, { lessons, engine, progress }) => {
      const lesson = findLesson(lessons(), params[0]!);
      const step = findStep(lesson, params[1]!);
      await engine.admit(learnerId, client);
      return { status: await progress.set(learnerId, lesson.id, step.id, 'skipped') };
    },
  },
];
