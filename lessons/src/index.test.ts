import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_DIR, loadLessons } from './index';

let dir = '';
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

function copyOfContent(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-lessons-'));
  cpSync(DEFAULT_CONTENT_DIR, dir, { recursive: true });
  return dir;
}

describe('lesson catalogue', () => {
  it('loads the course lessons in order with both languages', () => {
    const lessons = loadLessons();
    expect(lessons.map((l) => l.id).slice(0, 2)).toEqual(['Docker_Intro', 'Docker_Layers']);
    for (const step of lessons.flatMap((l) => l.steps)) {
      expect(step.body.en.length).toBeGreaterThan(0);
      expect(step.body.ko.length).toBeGreaterThan(0);
    }
  });

  it('names the file when a translation is missing', () => {
    const d = copyOfContent();
    const step = loadLessons(d)[0]!.steps[0]!;
    rmSync(path.join(d, 'Docker_Intro', 'steps', `01-${step.id}.ko.md`));
    expect(() => loadLessons(d)).toThrowError(`01-${step.id}.ko.md: missing ko text for step "${step.id}"`);
  });

  it('names the file and field of an invalid manifest', () => {
    const d = copyOfContent();
    writeFileSync(
      path.join(d, 'Docker_Layers', 'lesson.json'),
      JSON.stringify({ id: 'Docker_Layers', title: { en: 'x' } }),
    );
    expect(() => loadLessons(d)).toThrowError(/Docker_Layers\/lesson\.json: title\.ko/);
  });
});
