// The check kinds a lesson step may declare, with their parameters. The server engine evaluates them
// (server/src/engine/checks.ts); lessons:check validates them.
import { z } from 'zod';

const ref = z.string().min(1).max(256);
const target = { name: z.string().min(1).max(128).optional(), image: ref.optional() };

export const CheckSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('imageExists'), image: ref }).strict(),
  z
    .object({
      kind: z.literal('imageLayerCount'),
      image: ref,
      min: z.number().int().min(0).optional(),
      max: z.number().int().min(0).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('imageHistoryHas'), image: ref, pattern: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('imagesShareLayer'), images: z.tuple([ref, ref]) }).strict(),
  z.object({ kind: z.literal('containerRunning'), ...target }).strict(),
  z.object({ kind: z.literal('containerExited'), ...target }).strict(),
  z.object({ kind: z.literal('containerPublishes'), port: z.number().int().min(1).max(65535), ...target }).strict(),
  z
    .object({
      kind: z.literal('containerDiffHas'),
      ...target,
      path: z.string().min(1),
      change: z.enum(['A', 'C', 'D']),
    })
    .strict(),
  z.object({ kind: z.literal('fileInWorkspace'), path: z.string().min(1), pattern: z.string().optional() }).strict(),
  z
    .object({ kind: z.literal('commandRun'), pattern: z.string().min(1), exitCode: z.number().int().optional() })
    .strict(),
  z.object({ kind: z.literal('shell'), script: z.string().min(1) }).strict(),
  // Outcomes an exercise judges: what a port answers, an image's size and files, a tidy engine.
  z
    .object({
      kind: z.literal('httpResponds'),
      port: z.number().int().min(1).max(65535),
      path: z
        .string()
        .regex(/^\/[\x21-\x7e]*$/, 'a path starting with /')
        .default('/'),
      pattern: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('imageSizeBelow'), image: ref, megabytes: z.number().positive() }).strict(),
  z.object({ kind: z.literal('imageHasPath'), image: ref, path: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('imageLacksPath'), image: ref, path: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal('imagesDifferInLayers'),
      images: z.tuple([ref, ref]),
      max: z.number().int().min(1),
    })
    .strict(),
  z.object({ kind: z.literal('noStoppedContainers') }).strict(),
  z.object({ kind: z.literal('noDanglingImages') }).strict(),
]);
export type CheckSpec = z.infer<typeof CheckSpec>;

export const CHECK_KINDS = CheckSpec.options.map((o) => o.shape.kind.value);
