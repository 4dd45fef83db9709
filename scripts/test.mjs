// `npm test`: every test, in order of cost. Stops at the first failing stage.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BENCHES, ROOT, run, step } from './lib.mjs';
import { setup } from './setup.mjs';
import { ensureTestServices } from './test-services.mjs';

const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

try {
  setup();
  ensureTestServices();
  step('Lint');
  run(bin('eslint'), ['.']);
  step('Format');
  run(bin('prettier'), ['--check', '.', '--log-level', 'warn']);
  step('Typecheck');
  run('npm', ['run', '-s', 'typecheck']);
  step('Native unit tests');
  run('make', ['-s', '-C', 'native', 'test']);
  step('Lessons');
  run(bin('tsx'), ['lessons/src/check-cli.ts']);
  step('Unit tests');
  run(bin('vitest'), ['run', '--project', 'unit']);
  step('Integration tests (real sandboxes, registry and databases)');
  run(bin('vitest'), ['run', '--project', 'integration']);
  step('Benchmarks, quick mode');
  // Benchmarks are code too: each runs with its smallest sizes, one after the other, and must succeed.
  for (const name of BENCHES) {
    step(`bench:${name} (BENCH_QUICK=1)`);
    run('npm', ['run', '-s', `bench:${name}`], { env: { ...process.env, BENCH_QUICK: '1' } });
  }
  step('End-to-end tests (Chromium)');
  if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'))
    throw new Error('Chromium is missing: apt-get install chromium (or set CHROMIUM_PATH)');
  run(bin('playwright'), ['test', '-c', 'e2e/playwright.config.ts']);
} catch (err) {
  console.error(`npm test: ${err.message}`);
  process.exit(1);
}
