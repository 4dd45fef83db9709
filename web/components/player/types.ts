import type { Localized } from '@dockside/lessons';

/** What the player needs of a lesson: text and check titles, never check parameters or solutions. */
export type PlayerStep = {
  id: string;
  title: Localized;
  body: Localized;
  checks: { id: string; title: Localized }[];
  hintCount: number;
  hasSolution: boolean;
};
export type PlayerLesson = {
  id: string;
  title: Localized;
  summary: Localized;
  steps: PlayerStep[];
  /** The lesson's exercises, each at its own page. */
  exercises: { id: string; title: Localized }[];
};

/** What the exercise view needs: the goal and check titles, never check parameters, hints or solutions. */
export type PlayerExercise = {
  id: string;
  title: Localized;
  body: Localized;
  checks: { id: string; title: Localized }[];
  hintCount: number;
  minutes?: number;
};
