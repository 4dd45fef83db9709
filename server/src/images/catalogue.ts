// The image catalogue: every repository the lesson images are pushed under, with its tags and its
// one-line description, read from lessons/images/*/image.json. Several recipes may share a repository
// (debian's bookworm and trixie): their tags are merged and their descriptions must agree.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CatalogueImage } from '@dockside/protocol';
import { z } from 'zod';
import { REPO_ROOT } from '../paths';

export const RECIPES_DIR = path.join(REPO_ROOT, 'lessons', 'images');

const oneLine = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\n\r]*$/, 'must be one line');

/** The catalogue's part of an image.json (build.ts reads the rest). */
export const CatalogueFields = z.object({
  repository: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  tags: z.array(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/)).min(1),
  description: z.object({ en: oneLine, ko: oneLine }),
});

/** The recipe folders under `dir`, sorted. */
export function recipeFolders(dir = RECIPES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Parses `dir/name/image.json` with `schema`, throwing one line that names the file and the field. */
export function readRecipe<T extends z.ZodTypeAny>(dir: string, name: string, schema: T): z.infer<T> {
  const file = `lessons/images/${name}/image.json`;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path.join(dir, name, 'image.json'), 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Every repository with its tags (in recipe order) and description, sorted by repository. */
export function loadCatalogue(dir = RECIPES_DIR): CatalogueImage[] {
  const byRepository = new Map<string, CatalogueImage & { from: string }>();
  for (const name of recipeFolders(dir)) {
    const r = readRecipe(dir, name, CatalogueFields);
    const seen = byRepository.get(r.repository);
    if (!seen) {
      byRepository.set(r.repository, { ...r, tags: [...r.tags], from: name });
      continue;
    }
    if (seen.description.en !== r.description.en || seen.description.ko !== r.description.ko)
      throw new Error(
        `lessons/images/${name}/image.json: description differs from lessons/images/${seen.from}/image.json's (both are ${r.repository})`,
      );
    for (const t of r.tags) {
      if (seen.tags.includes(t))
        throw new Error(`lessons/images/${name}/image.json: ${r.repository}:${t} is also built by ${seen.from}`);
      seen.tags.push(t);
    }
  }
  return [...byRepository.values()]
    .map(({ repository, tags, description }) => ({ repository, tags, description }))
    .sort((a, b) => a.repository.localeCompare(b.repository));
}
