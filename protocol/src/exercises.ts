// Exercises as browser and server name them.

/**
 * Where an exercise's progress is kept, beside the steps' (the dashboard, results and CSV show it as a
 * step): a colon, which no step id holds, keeps the two apart.
 */
export const exerciseStepId = (exerciseId: string) => `exercise:${exerciseId}`;

/** The exercise an `exerciseStepId` names, or undefined for a step's id. */
export const exerciseOfStepId = (stepId: string): string | undefined =>
  stepId.startsWith('exercise:') ? stepId.slice('exercise:'.length) : undefined;

/** The page of an exercise, a stable address (tutorials and the embed page link to it). */
export const exercisePath = (lessonId: string, exerciseId: string) => `/lessons/${lessonId}/exercises/${exerciseId}`;

/** Preparing an exercise's starting state: which action of how many, for a progress bar. */
export type ExerciseProgress = {
  lessonId: string;
  exerciseId: string;
  /** 0–100 */
  percent: number;
  message: { en: string; ko: string };
};

/**
 * Short column labels for a row of steps and exercises (a dashboard's, the results'): steps by number,
 * exercises as E1, E2… so the two are told apart at a glance.
 */
export function columnLabels(stepIds: string[]): string[] {
  let steps = 0;
  let exercises = 0;
  return stepIds.map((id) => (exerciseOfStepId(id) === undefined ? String(++steps) : `E${++exercises}`));
}
