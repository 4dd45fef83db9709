import { loadLessons, type Lesson } from '@dockside/lessons';
import type { PlayerExercise, PlayerLesson } from '../components/player/types';

/** The lessons the server process points us at (it sets DOCKSIDE_LESSONS_DIR before serving pages). */
export function catalog(): Lesson[] {
  return loadLessons(process.env.DOCKSIDE_LESSONS_DIR);
}

/** A lesson as the player gets it: text and check titles, never check parameters, hints or solutions. */
export function playerLesson(lessonId: string): PlayerLesson | undefined {
  const lesson = catalog().find((l) => l.id === lessonId);
  if (!lesson) return undefined;
  return {
    id: lesson.id,
    title: lesson.title,
    summary: lesson.summary,
    steps: lesson.steps.map((s) => ({
      id: s.id,
      title: s.title,
      body: s.body,
      checks: s.checks.map((c) => ({ id: c.id, title: c.title })),
      hintCount: s.hints.length,
      hasSolution: Boolean(s.solution),
    })),
    exercises: lesson.exercises.map((e) => ({ id: e.id, title: e.title })),
  };
}

/** An exercise as its page gets it: the goal and check titles, never setup, check parameters or solution. */
export function playerExercise(
  lessonId: string,
  exerciseId: string,
): { lesson: Pick<PlayerLesson, 'id' | 'title' | 'exercises'>; exercise: PlayerExercise } | undefined {
  const lesson = catalog().find((l) => l.id === lessonId);
  const exercise = lesson?.exercises.find((e) => e.id === exerciseId);
  if (!lesson || !exercise) return undefined;
  return {
    lesson: {
      id: lesson.id,
      title: lesson.title,
      exercises: lesson.exercises.map((e) => ({ id: e.id, title: e.title })),
    },
    exercise: {
      id: exercise.id,
      title: exercise.title,
      body: exercise.body,
      checks: exercise.checks.map((c) => ({ id: c.id, title: c.title })),
      hintCount: exercise.hints.length,
      ...(exercise.minutes !== undefined && { minutes: exercise.minutes }),
    },
  };
}
