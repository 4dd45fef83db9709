// What an /embed or /try address asks for: a lesson (at a step or an exercise), or a plain sandbox with
// images pulled. Tutorial authors write these addresses by hand, so every mistake is named in one line.
import type { Lesson } from '@dockside/lessons';
import type { CatalogueImage } from '@dockside/protocol';
import { z } from 'zod';

export type EmbedTarget = (
  { kind: 'lesson'; lessonId: string; stepId?: string; exerciseId?: string } | { kind: 'images'; images: string[] }
) & { editor: boolean; lang?: 'en' | 'ko' };

export class TargetError extends Error {}

const MAX_IMAGES = 5;
const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _');
const Query = z
  .object({
    lesson: Id.optional(),
    step: Id.optional(),
    exercise: Id.optional(),
    images: z.string().min(1, 'one or more image names').max(300, 'at most 300 characters').optional(),
    editor: z.enum(['0', '1'], { message: '0 or 1' }).optional(),
    lang: z.enum(['en', 'ko'], { message: 'en or ko' }).optional(),
  })
  .strict();

const PARAMETERS = 'lesson, step, exercise, images, editor, lang';

/** The target of a query string; throws TargetError with a one-line message on the first problem. */
export function parseTarget(
  query: URLSearchParams,
  lessons: readonly Lesson[],
  catalogue: readonly CatalogueImage[],
): EmbedTarget {
  const fields: Record<string, string> = {};
  for (const [name, value] of query) {
    if (name === '_rsc') continue; // Next.js' own, on a client-side refresh of the page
    if (name in fields) throw new TargetError(`${name} is given twice; give it once`);
    fields[name] = value;
  }
  const parsed = Query.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys')
      throw new TargetError(`unknown parameter ${issue.keys[0]}; the parameters are ${PARAMETERS}`);
    const name = String(issue.path[0]);
    throw new TargetError(
      `${name}=${JSON.stringify(fields[name] ?? '').slice(0, 80)} is invalid: expected ${issue.message}`,
    );
  }
  const q = parsed.data;
  const common = { editor: q.editor === '1', ...(q.lang ? { lang: q.lang } : {}) };

  if (q.images !== undefined) {
    if (q.lesson || q.step || q.exercise)
      throw new TargetError('give either lesson (with step or exercise) or images, not both');
    return { kind: 'images', images: imageNames(q.images, catalogue), ...common };
  }
  if (!q.lesson) throw new TargetError(`say what to open: lesson=<id> (with step= or exercise=) or images=<names>`);
  const lesson = lessons.find((l) => l.id === q.lesson);
  if (!lesson)
    throw new TargetError(`there is no lesson ${q.lesson}; the lessons are ${lessons.map((l) => l.id).join(', ')}`);
  if (q.step && q.exercise) throw new TargetError('give step or exercise, not both');
  if (q.step && !lesson.steps.some((s) => s.id === q.step))
    throw new TargetError(
      `lesson ${lesson.id} has no step ${q.step}; its steps are ${lesson.steps.map((s) => s.id).join(', ')}`,
    );
  if (q.exercise) {
    const { exercises } = lesson;
    if (!exercises.some((e) => e.id === q.exercise))
      throw new TargetError(
        exercises.length === 0
          ? `lesson ${lesson.id} has no exercises`
          : `lesson ${lesson.id} has no exercise ${q.exercise}; its exercises are ${exercises.map((e) => e.id).join(', ')}`,
      );
  }
  return {
    kind: 'lesson',
    lessonId: lesson.id,
    ...(q.step ? { stepId: q.step } : {}),
    ...(q.exercise ? { exerciseId: q.exercise } : {}),
    ...common,
  };
}

/** `nginx,redis:7` → the names, each one this installation's registry carries. */
function imageNames(list: string, catalogue: readonly CatalogueImage[]): string[] {
  const names = list.split(',').map((n) => n.trim());
  if (names.some((n) => n === '')) throw new TargetError('images: an empty name; separate names with commas');
  if (names.length > MAX_IMAGES) throw new TargetError(`images: at most ${MAX_IMAGES} images, not ${names.length}`);
  for (const name of names) {
    const [repository, tag] = name.split(':', 2) as [string, string | undefined];
    const image = catalogue.find((c) => c.repository === repository);
    if (!image || (tag !== undefined && !image.tags.includes(tag)) || name.split(':').length > 2)
      throw new TargetError(
        `images: this Dockside does not carry ${JSON.stringify(name).slice(0, 80)}; it carries ${catalogue
          .map((c) => c.repository)
          .join(', ')}`,
      );
  }
  return [...new Set(names)];
}
