// `npm run lessons:check`: validates every lesson and reports the file of the first error in each.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONTENT_DIR, LessonError, loadLesson } from './index';

const dir = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_CONTENT_DIR;
let failed = 0;
let passed = 0;
for (const entry of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
  try {
    const lesson = loadLesson(path.join(dir, entry.name));
    console.log(`ok    ${lesson.id} (${lesson.steps.length} steps)`);
    passed++;
  } catch (err) {
    failed++;
    console.error(`error ${err instanceof LessonError ? err.message : String(err)}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
