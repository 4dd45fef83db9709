// A step's checks and where the learner stands on it.

export type CheckStatus = 'pending' | 'passed' | 'failed';
/** A check's outcome; a failed one says what is missing, in both languages (the page shows its own). */
export type CheckResultView = { id: string; status: CheckStatus; hint?: { en: string; ko: string } };

export type StepStatus = 'pending' | 'working' | 'passed' | 'skipped' | 'solved';

/** A step the learner is through: its checks passed, or they skipped it or took the solution. */
export const isStepDone = (status: string | undefined): boolean =>
  status === 'passed' || status === 'skipped' || status === 'solved';

/** One run of a step's checks, as pushed to the learner (`checks:result`). */
export type ChecksResult = { lessonId: string; stepId: string; stepStatus: StepStatus; results: CheckResultView[] };
