// The lesson catalogue: every folder under lessons/content with a valid lesson.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExerciseSet, type ExerciseManifest } from './exercises';
import { LOCALES, LessonManifest, type Locale, type Localized } from './schema';
export { CheckSpec, CHECK_KINDS } from './checks';
export { ExerciseManifest, ExerciseSet, SetupAction } from './exercises';
export { StepCheck } from './schema';

export { LOCALES, LessonManifest, type Locale, type Localized };

export const DEFAULT_CONTENT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../content');

export type Step = LessonManifest['steps'][number] & { body: Localized };
export type Exercise = ExerciseManifest & { body: Localized };
export type Lesson = Omit<LessonManifest, 'steps'> & { steps: Step[]; exercises: Exercise[] };

export class LessonError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

export function loadLesson(dir: string): Lesson {
  const file = path.join(dir, 'lesson.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(/*turbopackIgnore: true*/ file, 'utf8'));
  } catch (err) {
    throw new LessonError(file, (err as Error).message);
  }
  const parsed = LessonManifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LessonError(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const manifest = parsed.data;
  if (manifest.id !== path.basename(dir)) throw new LessonError(file, `id "${manifest.id}" must match its folder name`);
  const steps = manifest.steps.map((step, i) => {
    const body = {} as Localized;
    for (const locale of LOCALES) {
      const md = path.join(dir, 'steps', `${String(i + 1).padStart(2, '0')}-${step.id}.${locale}.md`);
      if (!existsSync(/*turbopackIgnore: true*/ md))
        throw new LessonError(md, `missing ${locale} text for step "${step.id}"`);
      body[locale] = readFileSync(/*turbopackIgnore: true*/ md, 'utf8');
    }
    return { ...step, body };
  });
  return { ...manifest, steps, exercises: loadExercises(dir) };
}

/** The lesson's exercises (`exercises.json`, optional) with their goal text in both languages. */
export function loadExercises(dir: string): Exercise[] {
  const file = path.join(dir, 'exercises.json');
  if (!existsSync(/*turbopackIgnore: true*/ file)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(/*turbopackIgnore: true*/ file, 'utf8'));
  } catch (err) {
    throw new LessonError(file, (err as Error).message);
  }
  const parsed = ExerciseSet.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LessonError(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.exercises.map((exercise) => {
    const body = {} as Localized;
    for (const locale of LOCALES) {
      const md = exerciseText(dir, exercise.id, locale);
      if (!existsSync(/*turbopackIgnore: true*/ md))
        throw new LessonError(md, `missing ${locale} text for exercise "${exercise.id}"`);
      body[locale] = readFileSync(/*turbopackIgnore: true*/ md, 'utf8');
    }
    return { ...exercise, body };
  });
}

/** `exercises/<id>.<locale>.md`: an exercise's goal, in one language. */
export const exerciseText = (dir: string, exerciseId: string, locale: Locale) =>
  path.join(dir, 'exercises', `${exerciseId}.${locale}.md`);

/** All lessons, ordered for the catalogue. Throws LessonError naming the first bad file. */
export function loadLessons(contentDir: string = DEFAULT_CONTENT_DIR): Lesson[] {
  return readdirSync(/*turbopackIgnore: true*/ contentDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => loadLesson(path.join(contentDir, d.name)))
    .sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
}

export function localize(text: Localized, locale: Locale): string {
  return text[locale];
}
