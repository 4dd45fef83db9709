import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lessonCatalog } from './lessonCatalog';
import { REPO_ROOT } from './paths';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A content folder with the intro lesson, and a way to retitle it on disk. */
function content() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-lessons-'));
  dirs.push(dir);
  cpSync(path.join(REPO_ROOT, 'lessons', 'content', 'Docker_Intro'), path.join(dir, 'Docker_Intro'), {
    recursive: true,
  });
  const file = path.join(dir, 'Docker_Intro', 'lesson.json');
  const retitle = (en: string) => {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { title: { en: string } };
    manifest.title.en = en;
    writeFileSync(file, JSON.stringify(manifest));
  };
  return { dir, retitle };
}

describe('lessonCatalog', () => {
  it('reads the lessons once', () => {
    const { dir, retitle } = content();
    const lessons = lessonCatalog(dir);
    const first = lessons();
    expect(first.map((l) => l.id)).toEqual(['Docker_Intro']);
    retitle('Changed');
    expect(lessons()).toBe(first);
  });

  it('reads them again after a change when it reloads (a dev server)', async () => {
    const { dir, retitle } = content();
    const lessons = lessonCatalog(dir, { reload: true });
    const first = lessons();
    expect(lessons()).toBe(first);
    retitle('Changed');
    await vi.waitFor(() => expect(lessons()[0]!.title.en).toBe('Changed'), { timeout: 5000 });
  });
});
