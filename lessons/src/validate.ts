// Everything `npm run lessons:check` reports about a lesson, each problem with its file and line: invalid
// or unknown fields and check kinds, missing translations, broken links, images no recipe builds, and
// commands that differ between the two languages.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LessonManifest, LOCALES } from './schema';

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
      body.split('\n').forEach((lineText, n) => {
        for (const m of lineText.matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = m[1]!;
          if (/^(https?:|mailto:|#)/.test(target)) continue;
          if (!existsSync(path.join(dir, 'steps', target.split('#')[0]!)))
            problems.push({ file: md, line: n + 1, message: `broken link: ${target}` });
        }
      });
    }
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
  return problems;
}
