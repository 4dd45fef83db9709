// Everything `npm run lessons:check` reports about a lesson, each problem with its file and line: invalid
// or unknown fields and check kinds, missing translations, broken links, images no recipe builds,
// commands that differ between the two languages, and quoted output (a step's `output`) that one
// language's text does not quote.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { ExerciseSet } from './exercises';
import { LessonManifest, LOCALES, type Localized, type StepCheck } from './schema';

export type Problem = { file: string; line: number; message: string };

/** The line of the value at `keys` (object keys and array indexes) in a JSON text, best effort. */
export function lineOf(text: string, data: unknown, keys: (string | number)[]): number {
  let offset = 0;
  let node: unknown = data;
  for (const key of keys) {
    if (typeof key === 'number' && Array.isArray(node)) {
      const item = node[key];
      // Array items are found by a distinctive field: an id, else their position among siblings' ids.
      const id = item && typeof item === 'object' && 'id' in item ? String((item as { id: unknown }).id) : undefined;
      const at = id ? text.indexOf(`"id": "${id}"`, offset) : -1;
      if (at >= 0) offset = at;
      node = item;
    } else if (typeof key === 'string') {
      const at = text.indexOf(`"${key}"`, offset);
      if (at >= 0) offset = at;
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return text.slice(0, offset).split('\n').length;
}

// Parsed as the lesson player renders it (react-markdown with remark-gfm).
const markdown = unified().use(remarkParse).use(remarkGfm);
type MdNode = { type: string; value?: string; children?: MdNode[]; position?: { start: { line: number } } };

/**
 * Lines where emphasis marks would show as typed: `**` or `__` left in plain text. CommonMark does not
 * close `**` between punctuation and a letter, as in Korean `**\`Using cache\`**가`.
 */
export function literalEmphasis(md: string): number[] {
  const lines: number[] = [];
  const walk = (node: MdNode) => {
    if (node.type === 'text' && /\*\*|__/.test(node.value ?? '')) lines.push(node.position?.start.line ?? 1);
    node.children?.forEach(walk);
  };
  walk(markdown.runSync(markdown.parse(md)) as MdNode);
  return [...new Set(lines)];
}

const HANGUL = /[\uac00-\ud7a3]/;
/** Korean text with no Korean in it (a copy of the English, or an English message); code alone is both. */
const untranslated = (text: Localized) => !HANGUL.test(text.ko) && /[A-Za-z]/.test(text.ko.replace(/`[^`]*`/g, ''));

/** A shell check's messages: every `FAIL: <English>` line needs a `FAIL ko: <Korean>` after it. */
export function failWithoutKorean(script: string): boolean {
  return script
    .split('FAIL:')
    .slice(1)
    .some((after) => !HANGUL.test(after.split('FAIL ko:')[1] ?? ''));
}

const codeBlocks = (md: string) => [...md.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

/** Image names the recipes in `imagesDir` provide (`name` and `name:tag`). */
export function providedImages(imagesDir: string): Set<string> {
  const names = new Set<string>();
  if (!existsSync(imagesDir)) return names;
  for (const d of readdirSync(imagesDir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const file = path.join(imagesDir, d.name, 'image.json');
    if (!existsSync(file)) continue;
    const recipe = JSON.parse(readFileSync(file, 'utf8')) as { repository: string; tags: string[] };
    names.add(recipe.repository);
    for (const t of recipe.tags) names.add(`${recipe.repository}:${t}`);
  }
  return names;
}

/** What is wrong with a step's or an exercise's checks: untranslated titles, shell messages. */
function checkProblems(checks: StepCheck[], file: string, where: (keys: (string | number)[]) => number): Problem[] {
  const problems: Problem[] = [];
  checks.forEach((check, c) => {
    if (untranslated(check.title))
      problems.push({
        file,
        line: where(['checks', c, 'title']),
        message: `check "${check.id}": title not in Korean`,
      });
    // One style for every check message: a sentence, as the server's own are.
    if (check.kind === 'shell' && /FAIL: (?![A-Z`\\])|FAIL: [^'"]*[^.'"]['"]/.test(check.script))
      problems.push({
        file,
        line: where(['checks', c, 'script']),
        message: `check "${check.id}": a FAIL: message is a sentence (a capital or \`code\` first, a full stop last)`,
      });
    if (check.kind === 'shell' && failWithoutKorean(check.script))
      problems.push({
        file,
        line: where(['checks', c, 'script']),
        message: `check "${check.id}": a FAIL: message without a FAIL ko: line in Korean after it`,
      });
  });
  return problems;
}

export function validateLesson(dir: string, images: Set<string>): Problem[] {
  const file = path.join(dir, 'lesson.json');
  const problems: Problem[] = [];
  let text: string;
  let data: unknown;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [{ file, line: 1, message: 'lesson.json is missing' }];
  }
  try {
    data = JSON.parse(text);
  } catch (err) {
    const pos = Number(/position (\d+)/.exec((err as Error).message)?.[1] ?? 0);
    return [{ file, line: text.slice(0, pos).split('\n').length, message: (err as Error).message }];
  }
  const parsed = LessonManifest.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const keys = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
      const where = keys.join('.') || '(root)';
      const message =
        issue.code === 'invalid_union' && keys.at(-1) !== 'kind'
          ? `${where}: unknown check kind or bad parameters`
          : `${where}: ${issue.message}`;
      problems.push({ file, line: lineOf(text, data, keys), message });
    }
    return problems;
  }
  const lesson = parsed.data;
  if (lesson.id !== path.basename(dir))
    problems.push({ file, line: lineOf(text, data, ['id']), message: `id "${lesson.id}" must match its folder name` });
  const seen = new Set<string>();
  lesson.steps.forEach((step, i) => {
    if (seen.has(step.id))
      problems.push({ file, line: lineOf(text, data, ['steps', i]), message: `step id "${step.id}" is used twice` });
    seen.add(step.id);
    const bodies: Partial<Record<string, string>> = {};
    for (const locale of LOCALES) {
      const md = path.join(dir, 'steps', `${String(i + 1).padStart(2, '0')}-${step.id}.${locale}.md`);
      if (!existsSync(md)) {
        problems.push({ file: md, line: 1, message: `missing ${locale} text for step "${step.id}"` });
        continue;
      }
      const body = readFileSync(md, 'utf8');
      bodies[locale] = body;
      for (const line of literalEmphasis(body))
        problems.push({ file: md, line, message: 'emphasis marks that would show as typed (** or __)' });
      // The Korean page labels its tabs 터미널, 편집기, 레이어.
      if (locale === 'ko')
        body.split('\n').forEach((lineText, n) => {
          if (/\b(Terminal|Editor|Layers)\b\**\s*탭/.test(lineText))
            problems.push({
              file: md,
              line: n + 1,
              message: 'a tab named in English; the Korean tabs read 터미널, 편집기, 레이어',
            });
        });
      body.split('\n').forEach((lineText, n) => {
        for (const m of lineText.matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = m[1]!;
          if (/^(https?:|mailto:|#)/.test(target)) continue;
          if (!existsSync(path.join(dir, 'steps', target.split('#')[0]!)))
            problems.push({ file: md, line: n + 1, message: `broken link: ${target}` });
        }
      });
    }
    const where = (keys: (string | number)[]) => lineOf(text, data, ['steps', i, ...keys]);
    problems.push(...checkProblems(step.checks, file, (keys) => where(keys)));
    step.hints.forEach((hint, h) => {
      if (untranslated(hint))
        problems.push({ file, line: where(['hints', h]), message: `hint ${h + 1} not in Korean` });
    });
    if (step.solution && untranslated(step.solution))
      problems.push({ file, line: where(['solution']), message: 'solution not in Korean' });
    (step.output ?? []).forEach((quoted, o) => {
      const line = where(['output', o]);
      for (const locale of LOCALES) {
        const body = bodies[locale];
        if (body !== undefined && !body.includes(quoted))
          problems.push({
            file,
            line,
            message: `output "${quoted}" of step "${step.id}" is not quoted verbatim in its ${locale} text`,
          });
      }
      // Found in the terminal because it was typed, it would prove nothing.
      if (step.run.some((r) => r.includes(quoted)))
        problems.push({
          file,
          line,
          message: `output "${quoted}" of step "${step.id}" is part of a command it runs; quote what the command prints`,
        });
    });
    if (
      bodies.en !== undefined &&
      bodies.ko !== undefined &&
      codeBlocks(bodies.en).join('\n') !== codeBlocks(bodies.ko).join('\n')
    )
      problems.push({
        file: path.join(dir, 'steps', `${String(i + 1).padStart(2, '0')}-${step.id}.ko.md`),
        line: 1,
        message: `the commands differ from the English text of step "${step.id}"`,
      });
  });
  lesson.images.forEach((image, i) => {
    if (images.size && !images.has(image))
      problems.push({
        file,
        line: lineOf(text, data, ['images', i]),
        message: `no lesson image recipe provides "${image}" (lessons/images/)`,
      });
  });
  lesson.seed.forEach((name) => {
    if (!existsSync(path.join(dir, 'workspace', name)))
      problems.push({ file, line: lineOf(text, data, ['seed']), message: `seed file workspace/${name} is missing` });
  });
  return [...problems, ...validateExercises(dir, images, new Set(lesson.steps.map((s) => s.id)))];
}

/** A lesson's exercises (`exercises.json`, optional), validated as steps are, plus their starting state. */
export function validateExercises(dir: string, images: Set<string>, stepIds: Set<string> = new Set()): Problem[] {
  const file = path.join(dir, 'exercises.json');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const pos = Number(/position (\d+)/.exec((err as Error).message)?.[1] ?? 0);
    return [{ file, line: text.slice(0, pos).split('\n').length, message: (err as Error).message }];
  }
  const parsed = ExerciseSet.safeParse(data);
  if (!parsed.success)
    return parsed.error.issues.map((issue) => {
      const keys = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
      const where = keys.join('.') || '(root)';
      const message =
        issue.code === 'invalid_union' && keys.at(-1) !== 'kind' && keys.at(-1) !== 'do'
          ? `${where}: unknown check kind, setup action or bad parameters`
          : `${where}: ${issue.message}`;
      return { file, line: lineOf(text, data, keys), message };
    });
  const problems: Problem[] = [];
  const seen = new Set<string>();
  parsed.data.exercises.forEach((exercise, i) => {
    const where = (keys: (string | number)[]) => lineOf(text, data, ['exercises', i, ...keys]);
    const problem = (keys: (string | number)[], message: string) =>
      problems.push({ file, line: where(keys), message: `exercise "${exercise.id}": ${message}` });
    if (seen.has(exercise.id)) problem([], 'its id is used twice');
    if (stepIds.has(exercise.id)) problem([], 'a step has the same id');
    seen.add(exercise.id);
    if (untranslated(exercise.title)) problem(['title'], 'title not in Korean');
    for (const locale of LOCALES) {
      const md = path.join(dir, 'exercises', `${exercise.id}.${locale}.md`);
      if (!existsSync(md)) {
        problems.push({ file: md, line: 1, message: `missing ${locale} text for exercise "${exercise.id}"` });
        continue;
      }
      const body = readFileSync(md, 'utf8');
      if (!body.trim()) problems.push({ file: md, line: 1, message: `the ${locale} goal is empty` });
      for (const line of literalEmphasis(body))
        problems.push({ file: md, line, message: 'emphasis marks that would show as typed (** or __)' });
    }
    problems.push(...checkProblems(exercise.checks, file, (keys) => where(keys)));
    exercise.hints.forEach((hint, h) => {
      if (!hint.en.trim() || !hint.ko.trim()) problem(['hints', h], `hint ${h + 1} is empty`);
      else if (untranslated(hint)) problem(['hints', h], `hint ${h + 1} not in Korean`);
    });
    if (untranslated(exercise.solution.text)) problem(['solution'], 'solution not in Korean');
    exercise.files.forEach((name, f) => {
      if (!existsSync(path.join(dir, 'exercises', exercise.id, name)))
        problem(['files', f], `file exercises/${exercise.id}/${name} is missing`);
    });
    const built = new Set<string>();
    exercise.setup.forEach((action, a) => {
      const keys = ['setup', a];
      const known = (image: string) =>
        !images.size || images.has(image) || built.has(image) || built.has(image.replace(/:latest$/, ''));
      if (action.do === 'pull' && !known(action.image))
        problem(keys, `no lesson image recipe provides "${action.image}" (lessons/images/)`);
      if (action.do === 'build') {
        const context = path.join(dir, 'exercises', exercise.id, action.context);
        const dockerfile = path.join(context, action.dockerfile ?? 'Dockerfile');
        if (!exercise.files.some((f) => path.join(dir, 'exercises', exercise.id, f) === dockerfile))
          problem(keys, `its Dockerfile ${path.relative(dir, dockerfile)} is not among the exercise's files`);
        built.add(action.tag);
      }
      if (action.do === 'container' && !known(action.image))
        problem(keys, `image "${action.image}" is neither a lesson image nor built by an earlier action`);
    });
  });
  return problems;
}
