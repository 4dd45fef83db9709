import fs, { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_DIR, loadLesson, loadLessons, LOCALES } from './index';
import { providedImages, validateExercises, validateLesson } from './validate';

const here = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLE = path.resolve(here, '../examples/Hello_Example');
const images = providedImages(path.resolve(here, '../images'));

let dir = '';
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

/** A copy of the example lesson to break. */
function example(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-example-'));
  const copy = path.join(dir, 'Hello_Example');
  cpSync(EXAMPLE, copy, { recursive: true });
  return copy;
}

function edit(file: string, change: (text: string) => string): void {
  writeFileSync(file, change(readFileSync(file, 'utf8')));
}

describe('lesson validation', () => {
  it('accepts the example lesson and the course lessons', () => {
    expect(validateLesson(EXAMPLE, images)).toEqual([]);
    expect(loadLesson(EXAMPLE).steps[0]!.checks[0]!.kind).toBe('containerExited');
    for (const lesson of loadLessons())
      expect(validateLesson(path.join(DEFAULT_CONTENT_DIR, lesson.id), images)).toEqual([]);
  });

  it('reports an unknown check kind at its line in lesson.json', () => {
    const l = example();
    edit(path.join(l, 'lesson.json'), (t) => t.replace('"containerExited"', '"containerDanced"'));
    const [p] = validateLesson(l, images);
    expect(p!.file).toBe(path.join(l, 'lesson.json'));
    const lines = readFileSync(p!.file, 'utf8').split('\n');
    expect(lines[p!.line - 1]).toMatch(/"kind"|"checks"|"id": "ran"/);
    expect(p!.message).toMatch(/steps\.0\.checks\.0/);
  });

  it('reports a missing translation, a broken link, an image no recipe builds and differing commands', () => {
    const l = example();
    rmSync(path.join(l, 'steps', '01-say-hello.ko.md'));
    edit(path.join(l, 'steps', '01-say-hello.en.md'), (t) => `${t}\nSee [the picture](img/missing.png).\n`);
    edit(path.join(l, 'lesson.json'), (t) =>
      t.replace('"images": ["busybox"]', '"images": ["busybox", "no-such-image"]'),
    );
    const problems = validateLesson(l, images).map((p) => ({ ...p, file: path.basename(p.file) }));
    expect(problems).toEqual(
      expect.arrayContaining([
        { file: '01-say-hello.ko.md', line: 1, message: 'missing ko text for step "say-hello"' },
        { file: '01-say-hello.en.md', line: 7, message: 'broken link: img/missing.png' },
        { file: 'lesson.json', line: 7, message: 'no lesson image recipe provides "no-such-image" (lessons/images/)' },
      ]),
    );

    const again = example();
    edit(path.join(again, 'steps', '01-say-hello.ko.md'), (t) => t.replace('echo hello', 'echo 안녕'));
    expect(validateLesson(again, images).map((p) => p.message)).toEqual([
      'the commands differ from the English text of step "say-hello"',
    ]);
  });

  it('reports a check message or hint in English only or not a sentence, emphasis shown as typed and a tab named in English', () => {
    const l = example();
    edit(path.join(l, 'lesson.json'), (t) =>
      t
        .replace('"ko": "명령을 터미널에 붙여 넣으세요."', '"ko": "Copy the command into the terminal."')
        .replace(
          /"checks": \[\n/,
          `"checks": [\n        { "id": "built", "kind": "shell", "script": "test -f x || { echo 'FAIL: build the image lean too'; exit 1; }", "title": { "en": "Built", "ko": "빌드했습니다" } },\n`,
        ),
    );
    edit(
      path.join(l, 'steps', '01-say-hello.ko.md'),
      (t) => `${t}\n모든 단계에 **\`Using cache\`**가 보입니다. **Editor** 탭을 여세요.\n`,
    );
    const problems = validateLesson(l, images).map((p) => `${path.basename(p.file)}:${p.line}: ${p.message}`);
    expect(problems).toEqual([
      '01-say-hello.ko.md:7: emphasis marks that would show as typed (** or __)',
      '01-say-hello.ko.md:7: a tab named in English; the Korean tabs read 터미널, 편집기, 레이어',
      expect.stringMatching(/^lesson\.json:\d+: check "built": a FAIL: message is a sentence/),
      expect.stringMatching(
        /^lesson\.json:\d+: check "built": a FAIL: message without a FAIL ko: line in Korean after it$/,
      ),
      expect.stringMatching(/^lesson\.json:\d+: hint 1 not in Korean$/),
    ]);
  });

  it('reports quoted output that one language does not quote verbatim, or that the step types itself', () => {
    const l = example();
    const addOutput = (output: string[]) =>
      edit(path.join(l, 'lesson.json'), (t) =>
        t.replace(/"run": \[[^\]]*\]/, (run) => `${run},\n      "output": ${JSON.stringify(output)}`),
      );
    edit(path.join(l, 'steps', '01-say-hello.en.md'), (t) => `${t}\nIt prints \`Status: Downloaded\`.\n`);
    edit(path.join(l, 'steps', '01-say-hello.ko.md'), (t) => `${t}\n\`Status: downloaded\`가 출력됩니다.\n`);
    addOutput(['Status: Downloaded']);
    const problems = validateLesson(l, images);
    expect(problems.map((p) => p.message)).toEqual([
      'output "Status: Downloaded" of step "say-hello" is not quoted verbatim in its ko text',
    ]);
    expect(readFileSync(problems[0]!.file, 'utf8').split('\n')[problems[0]!.line - 1]).toContain('"output"');

    edit(path.join(l, 'steps', '01-say-hello.ko.md'), (t) => t.replace('Status: downloaded', 'Status: Downloaded'));
    expect(validateLesson(l, images)).toEqual([]);

    const again = example();
    edit(path.join(again, 'lesson.json'), (t) =>
      t.replace(/"run": \[[^\]]*\]/, (run) => `${run},\n      "output": ["echo hello"]`),
    );
    expect(validateLesson(again, images).map((p) => p.message)).toEqual([
      'output "echo hello" of step "say-hello" is part of a command it runs; quote what the command prints',
    ]);
  });

  it('gives every step and check text in both languages', () => {
    for (const lesson of loadLessons())
      for (const step of lesson.steps) {
        for (const locale of LOCALES) {
          expect(step.body[locale].length).toBeGreaterThan(50);
          expect(step.title[locale]).toBeTruthy();
          for (const c of step.checks) expect(c.title[locale]).toBeTruthy();
          for (const h of step.hints) expect(h[locale]).toBeTruthy();
        }
        expect(step.run.length).toBeGreaterThan(0);
      }
  });
});

describe('exercise validation', () => {
  const INTRO = path.join(DEFAULT_CONTENT_DIR, 'Docker_Intro');
  /** A copy of Docker_Intro, to break its exercises. */
  function intro(): string {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-exercises-'));
    const copy = path.join(dir, 'Docker_Intro');
    cpSync(INTRO, copy, { recursive: true });
    return copy;
  }
  const messages = (l: string) => validateExercises(l, images).map((p) => p.message);

  it('accepts the course exercises, at least four per lesson, each with a goal in both languages', () => {
    for (const lesson of loadLessons()) {
      expect(validateExercises(path.join(DEFAULT_CONTENT_DIR, lesson.id), images)).toEqual([]);
      expect(lesson.exercises.length).toBeGreaterThanOrEqual(4);
      for (const e of lesson.exercises) for (const locale of LOCALES) expect(e.body[locale]).toMatch(/\S/);
    }
  });

  it('reports an exercise id used twice, and one a step has', () => {
    const l = intro();
    const step = loadLesson(l).steps[0]!.id;
    edit(path.join(l, 'exercises.json'), (t) => t.replace('"id": "free-disk"', '"id": "revive-web"'));
    expect(messages(l)).toContain('exercise "revive-web": its id is used twice');
    edit(path.join(l, 'exercises.json'), (t) => t.replace('"id": "keep-changes"', `"id": "${step}"`));
    fs.renameSync(path.join(l, 'exercises', 'keep-changes.en.md'), path.join(l, 'exercises', `${step}.en.md`));
    fs.renameSync(path.join(l, 'exercises', 'keep-changes.ko.md'), path.join(l, 'exercises', `${step}.ko.md`));
    expect(validateLesson(l, images).map((p) => p.message)).toContain(`exercise "${step}": a step has the same id`);
  });

  it('reports a missing translation of the goal by its file', () => {
    const l = intro();
    rmSync(path.join(l, 'exercises', 'read-logs.ko.md'));
    expect(validateExercises(l, images)).toEqual([
      {
        file: path.join(l, 'exercises', 'read-logs.ko.md'),
        line: 1,
        message: 'missing ko text for exercise "read-logs"',
      },
    ]);
  });

  it('reports an exercise without hints, an empty hint, a bad time budget and an unknown setup action at their lines', () => {
    const l = intro();
    const file = path.join(l, 'exercises.json');
    const data = JSON.parse(readFileSync(file, 'utf8'));
    data.exercises[0].hints = [];
    data.exercises[1].hints[0].ko = '';
    data.exercises[2].minutes = 0;
    data.exercises[3].setup[0] = { do: 'teleport', image: 'busybox' };
    writeFileSync(file, JSON.stringify(data, null, 2));
    const problems = validateExercises(l, images);
    expect(problems.map((p) => p.message)).toEqual([
      'exercises.0.hints: every exercise needs at least one hint',
      'exercises.1.hints.0.ko: Too small: expected string to have >=1 characters',
      'exercises.2.minutes: Too small: expected number to be >=1',
      "exercises.3.setup.0.do: Invalid discriminator value. Expected 'pull' | 'build' | 'container'",
    ]);
    expect(problems.every((p) => p.line > 1)).toBe(true);
  });

  it('reports a seed file that is missing, an image no recipe makes, a Dockerfile not among the files, and an untranslated hint', () => {
    const l = intro();
    rmSync(path.join(l, 'exercises', 'read-logs', 'greet.sh'));
    const file = path.join(l, 'exercises.json');
    const data = JSON.parse(readFileSync(file, 'utf8'));
    data.exercises[0].setup[0].image = 'no-such-image:1';
    data.exercises[1].setup[1].dockerfile = 'Dockerfile.v3';
    data.exercises[2].hints[0].ko = data.exercises[2].hints[0].en;
    writeFileSync(file, JSON.stringify(data, null, 2));
    expect(messages(l)).toEqual([
      'exercise "revive-web": no lesson image recipe provides "no-such-image:1" (lessons/images/)',
      'exercise "free-disk": its Dockerfile exercises/free-disk/Dockerfile.v3 is not among the exercise\'s files',
      'exercise "keep-changes": hint 1 not in Korean',
      'exercise "read-logs": file exercises/read-logs/greet.sh is missing',
    ]);
  });

  it('reports an unknown check kind in an exercise', () => {
    const l = intro();
    edit(path.join(l, 'exercises.json'), (t) => t.replace('"httpResponds"', '"httpDances"'));
    expect(messages(l)).toEqual([expect.stringMatching(/^exercises\.0\.checks\.2\.kind: Invalid discriminator value/)]);
  });
});
