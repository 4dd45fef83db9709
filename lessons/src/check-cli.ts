// `npm run lessons:check [DIR]`: validates every lesson and prints each problem as FILE:LINE: MESSAGE.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONTENT_DIR } from './index';
import { providedImages, validateLesson } from './validate';

const dir = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_CONTENT_DIR;
const images = providedImages(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../images'));
let failed = 0;
let passed = 0;
for (const entry of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
  const problems = validateLesson(path.join(dir, entry.name), images);
  if (problems.length === 0) {
    console.log(`ok    ${entry.name}`);
    passed++;
    continue;
  }
  failed++;
  for (const p of problems) console.error(`error ${path.relative(process.cwd(), p.file)}:${p.line}: ${p.message}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
