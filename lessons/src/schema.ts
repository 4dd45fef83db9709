import { z } from 'zod';

export const LOCALES = ['en', 'ko'] as const;
export type Locale = (typeof LOCALES)[number];

/** A string in every supported language. */
export const Localized = z.object({ en: z.string().min(1), ko: z.string().min(1) }).strict();
export type Localized = z.infer<typeof Localized>;

export const StepManifest = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    title: Localized,
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
    images: z.array(z.string()).default([]),
    steps: z.array(StepManifest).min(1),
  })
  .strict();
export type LessonManifest = z.infer<typeof LessonManifest>;
