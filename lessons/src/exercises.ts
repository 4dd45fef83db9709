// Exercises: a goal, a declared starting state the server prepares in the learner's sandbox, checks that
// judge the outcome, hints one at a time, a solution on request and an optional time budget. A lesson's
// exercises live beside its steps, in `exercises.json` and `exercises/<id>.<locale>.md`.
import { z } from 'zod';
import { Localized, StepCheck } from './schema';

const Id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');
/** A relative path inside the exercise's folder: no `..`, no leading `/`. */
const RelativePath = z
  .string()
  .min(1)
  .max(200)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path inside the exercise folder');
const ImageRef = z.string().min(1).max(256);

/** One action of a starting state, run in order in the learner's sandbox before the exercise opens. */
export const SetupAction = z.discriminatedUnion('do', [
  z.object({ do: z.literal('pull'), image: ImageRef }).strict(),
  z
    .object({
      do: z.literal('build'),
      tag: ImageRef,
      /** The build context, a folder of the exercise's files (`.` is all of them). */
      context: RelativePath.default('.'),
      dockerfile: RelativePath.optional(),
    })
    .strict(),
  z
    .object({
      do: z.literal('container'),
      name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'a Docker container name'),
      image: ImageRef,
      command: z.array(z.string()).optional(),
      env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'NAME=value')).optional(),
      /** `host:container`, as `docker run -p` takes it. */
      ports: z.array(z.string().regex(/^\d{1,5}:\d{1,5}$/, 'host:container')).optional(),
      /** running, exited (ran and stopped, e.g. broken) or created (never started). */
      state: z.enum(['running', 'exited', 'created']),
    })
    .strict(),
]);
export type SetupAction = z.infer<typeof SetupAction>;

export const ExerciseManifest = z
  .object({
    id: Id,
    title: Localized,
    /** A time budget in minutes, shown as a countdown; running out loses nothing. */
    minutes: z.number().int().min(1).max(120).optional(),
    /** Files of `exercises/<id>/`, copied into `/workspace/<id>/` before the other actions. */
    files: z.array(RelativePath).default([]),
    setup: z.array(SetupAction).default([]),
    checks: z.array(StepCheck).min(1, 'every exercise needs at least one check'),
    hints: z.array(Localized).min(1, 'every exercise needs at least one hint'),
    solution: z
      .object({
        /** What the learner reads when they ask for it. */
        text: Localized,
        /** Command lines that reach the goal from the starting state (the exercise tests type them). */
        commands: z.array(z.string().min(1)).min(1),
      })
      .strict(),
  })
  .strict();
export type ExerciseManifest = z.infer<typeof ExerciseManifest>;

export const ExerciseSet = z.object({ exercises: z.array(ExerciseManifest).min(1) }).strict();
