import { z } from 'zod';
import { CheckSpec } from './checks';

export const LOCALES = ['en', 'ko'] as const;
export type Locale = (typeof LOCALES)[number];

/** A string in every supported language. */
export const Localized = z.object({ en: z.string().min(1), ko: z.string().min(1) }).strict();
export type Localized = z.infer<typeof Localized>;

/** A check as a step declares it: its kind and parameters, plus what the learner sees. */
export const StepCheck = z.intersection(
  CheckSpec,
  z.object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    title: Localized,
  }),
);
export type StepCheck = z.infer<typeof StepCheck>;

export const StepManifest = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    title: Localized,
    checks: z.array(StepCheck).min(1, 'every step needs at least one check'),
    /** Shown one at a time, on request. */
    hints: z.array(Localized).default([]),
    /** Revealed on request; the step is then recorded as solved. */
    solution: Localized.optional(),
    /** What a learner types to complete the step, line by line (the lesson tests type exactly this). */
    run: z.array(z.string().min(1)).min(1),
    /**
     * What the step's text quotes of the output of `run`, each exactly as the learner sees it: the text of
     * both languages must contain it, and the lesson tests find it in the terminal after `run`.
     */
    output: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const LessonManifest = z
  .object({
    id: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'letters, digits and underscores, starting with a letter'),
    title: Localized,
    summary: Localized,
    level: z.enum(['beginner', 'intermediate', 'advanced']),
    minutes: z.number().int().positive(),
    order: z.number().int().nonnegative().default(100),
    /** Lesson images (Docker Hub names) the steps pull. */
    images: z.array(z.string()).default([]),
    /** Files copied into /workspace when the lesson starts, from the lesson's workspace/ folder. */
    seed: z.array(z.string()).default([]),
    steps: z.array(StepManifest).min(1),
  })
  .strict();
export type LessonManifest = z.infer<typeof LessonManifest>;
