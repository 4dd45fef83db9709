import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalogue, recipeFolders } from './catalogue';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A recipes folder with the given image.json contents, one folder per key. */
function recipes(images: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-catalogue-'));
  dirs.push(dir);
  for (const [name, json] of Object.entries(images)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'image.json'), typeof json === 'string' ? json : JSON.stringify(json));
  }
  return dir;
}
const describe2 = (en: string) => ({ en, ko: `${en} (ko)` });

describe('loadCatalogue', () => {
  it('lists every repository of lessons/images with its tags and a description in both languages', () => {
    const catalogue = loadCatalogue();
    const repositories = catalogue.map((i) => i.repository);
    for (const name of ['busybox', 'debian', 'hello-world', 'nginx', 'node', 'python'])
      expect(repositories).toContain(name);
    expect(repositories).toEqual([...repositories].sort());
    expect(catalogue.find((i) => i.repository === 'python')!.tags).toContain('3-slim');
    for (const i of catalogue) {
      expect(i.description.en.length).toBeGreaterThan(10);
      expect(i.description.ko).toMatch(/[가-힣]/);
    }
    // One entry per repository, however many recipe folders build it.
    expect(new Set(repositories).size).toBe(repositories.length);
    expect(repositories.length).toBeLessThanOrEqual(recipeFolders().length);
  });

  it('merges the tags of recipes that share a repository', () => {
    const dir = recipes({
      'debian-a': { repository: 'debian', tags: ['12'], description: describe2('Debian') },
      'debian-b': { repository: 'debian', tags: ['13', 'latest'], description: describe2('Debian') },
      redis: { repository: 'redis', tags: ['7'], description: describe2('Redis') },
    });
    expect(loadCatalogue(dir)).toEqual([
      { repository: 'debian', tags: ['12', '13', 'latest'], description: describe2('Debian') },
      { repository: 'redis', tags: ['7'], description: describe2('Redis') },
    ]);
  });

  it('refuses a recipe without a description, with a two-line one, or a tag built twice, in one line naming the file', () => {
    expect(() => loadCatalogue(recipes({ redis: { repository: 'redis', tags: ['7'] } }))).toThrow(
      /^lessons\/images\/redis\/image\.json: description: /,
    );
    expect(() =>
      loadCatalogue(recipes({ redis: { repository: 'redis', tags: ['7'], description: describe2('a\nb') } })),
    ).toThrow('lessons/images/redis/image.json: description.en: must be one line');
    expect(() =>
      loadCatalogue(
        recipes({
          a: { repository: 'debian', tags: ['latest'], description: describe2('Debian') },
          b: { repository: 'debian', tags: ['latest'], description: describe2('Debian') },
        }),
      ),
    ).toThrow('lessons/images/b/image.json: debian:latest is also built by a');
    expect(() =>
      loadCatalogue(
        recipes({
          a: { repository: 'debian', tags: ['12'], description: describe2('Debian') },
          b: { repository: 'debian', tags: ['13'], description: describe2('Other') },
        }),
      ),
    ).toThrow(/^lessons\/images\/b\/image\.json: description differs/);
    expect(() => loadCatalogue(recipes({ broken: '{' }))).toThrow(/^lessons\/images\/broken\/image\.json: /);
  });
});
