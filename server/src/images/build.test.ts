import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRecipes } from './build';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function recipes(images: Record<string, object>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-recipes-'));
  dirs.push(dir);
  for (const [name, json] of Object.entries(images)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'image.json'), JSON.stringify(json));
  }
  return dir;
}
const common = { description: { en: 'An image', ko: '이미지' }, config: {} };

describe('loadRecipes', () => {
  it('reads every recipe of lessons/images, with a Debian suite for each debootstrap base', () => {
    const all = loadRecipes();
    expect(all.get('debian')).toMatchObject({ base: 'debootstrap', suite: 'bookworm' });
    expect(all.get('debian-trixie')).toMatchObject({ base: 'debootstrap', suite: 'trixie' });
    expect(all.get('mysql')).toMatchObject({ base: 'mariadb' });
    expect(all.get('mysql')!.createdBy).toBeUndefined();
  });

  it('refuses a debootstrap base without a suite, and a suite elsewhere', () => {
    const base = { repository: 'debian', tags: ['x'], base: 'debootstrap', createdBy: 'ADD', ...common };
    expect(() => loadRecipes(recipes({ debian: base }))).toThrow(
      'lessons/images/debian/image.json: suite is for a debootstrap base, and such a base needs one',
    );
    expect(() => loadRecipes(recipes({ debian: { ...base, suite: 'sid' } }))).toThrow(
      /^lessons\/images\/debian\/image\.json: suite: /,
    );
    expect(() =>
      loadRecipes(recipes({ hello: { ...base, base: 'scratch', suite: 'trixie', files: { '/a': 'a' } } })),
    ).toThrow('lessons/images/hello/image.json: suite is for a debootstrap base');
  });

  it('wants createdBy exactly when a recipe adds a layer', () => {
    const debian = { repository: 'debian', tags: ['x'], base: 'debootstrap', suite: 'trixie', ...common };
    expect(() => loadRecipes(recipes({ debian }))).toThrow(
      'lessons/images/debian/image.json: createdBy is the history line of a new layer',
    );
    const alias = { repository: 'alias', tags: ['latest'], base: 'debian', createdBy: 'nothing', ...common };
    expect(() => loadRecipes(recipes({ debian: { ...debian, createdBy: 'ADD' }, alias }))).toThrow(
      'lessons/images/alias/image.json: createdBy is the history line of a new layer',
    );
  });
});
