// What a workshop asks of its learners: lessons (their steps, in order) and exercises picked from any
// lesson. Both are kept in the workshop's `lessonIds` column, a JSON array: a lesson id, or
// `<lessonId>/<exerciseId>` for an exercise (a slash no lesson id holds), so the table needs no new column.
// The dashboard, the results and the CSV show each lesson's steps, then its chosen exercises, as steps:
// an exercise's progress is kept under `exercise:<id>` beside the steps'.
import type { Lesson, Localized, StepCheck } from '@dockside/lessons';
import { exerciseStepId } from '@dockside/protocol';

export type ExerciseRef = { lessonId: string; exerciseId: string };
export type WorkshopPlan = { lessonIds: string[]; exercises: ExerciseRef[] };

export function readPlan(json: string): WorkshopPlan {
  const entries = JSON.parse(json) as string[];
  return {
    lessonIds: entries.filter((e) => !e.includes('/')),
    exercises: entries
      .filter((e) => e.includes('/'))
      .map((e) => {
        const [lessonId, exerciseId] = e.split('/') as [string, string];
        return { lessonId, exerciseId };
      }),
  };
}

export function writePlan(plan: WorkshopPlan): string {
  return JSON.stringify([...plan.lessonIds, ...plan.exercises.map((x) => `${x.lessonId}/${x.exerciseId}`)]);
}

/** The first of the plan's lessons or exercises that does not exist, in words; undefined when all do. */
export function unknownInPlan(plan: WorkshopPlan, lessons: Lesson[]): string | undefined {
  const lessonId = plan.lessonIds.find((id) => !lessons.some((l) => l.id === id));
  if (lessonId) return `there is no lesson ${lessonId}`;
  const x = plan.exercises.find(
    (e) => !lessons.find((l) => l.id === e.lessonId)?.exercises.some((ex) => ex.id === e.exerciseId),
  );
  return x && `there is no exercise ${x.exerciseId} in lesson ${x.lessonId}`;
}

export type PlanItem = { id: string; title: Localized; checks: StepCheck[] };
export type PlanLesson = { id: string; title: Localized; items: PlanItem[] };

/**
 * The plan's lessons in order, each with what the workshop asks of it: its steps (for a lesson the plan
 * names), then its chosen exercises; a lesson only exercises come from follows with those alone.
 */
export function planLessons(plan: WorkshopPlan, lessons: Lesson[]): PlanLesson[] {
  const ids = [...new Set([...plan.lessonIds, ...plan.exercises.map((x) => x.lessonId)])];
  return ids.flatMap((id) => {
    const lesson = lessons.find((l) => l.id === id);
    if (!lesson) return [];
    const steps = plan.lessonIds.includes(id) ? lesson.steps : [];
    const exercises = lesson.exercises.filter((e) =>
      plan.exercises.some((x) => x.lessonId === id && x.exerciseId === e.id),
    );
    return [
      {
        id,
        title: lesson.title,
        items: [
          ...steps.map((s) => ({ id: s.id, title: s.title, checks: s.checks })),
          ...exercises.map((e) => ({ id: exerciseStepId(e.id), title: e.title, checks: e.checks })),
        ],
      },
    ];
  });
}
