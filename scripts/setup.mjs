// Sets up whatever is missing: system packages, npm deps, native runtime, sandbox image, lesson images,
// database client, web build. Each step is skipped when its inputs are unchanged since it last succeeded.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkHost, once, ROOT, run, step } from './lib.mjs';
const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');

export function setup() {
  const problems = checkHost();
  for (const p of problems) console.warn(`dockside: warning: ${p}`);

  once(
    'npm-install',
    [
      'package.json',
      'package-lock.json',
      'server/package.json',
      'web/package.json',
      'lessons/package.json',
      'e2e/package.json',
    ],
    () => {
      step('Installing npm dependencies');
      run('npm', ['install', '--no-audit', '--no-fund']);
    },
    { check: () => existsSync(tsx) },
  );

  once(
    'prisma-generate',
    ['prisma/schema.prisma', 'prisma/postgresql/schema.prisma'],
    () => {
      step('Generating the database client');
      const env = {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true',
        CHECKPOINT_DISABLE: '1',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      };
      for (const schema of ['prisma/schema.prisma', 'prisma/postgresql/schema.prisma'])
        run(path.join(ROOT, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', schema], { env });
    },
    { check: () => existsSync(path.join(ROOT, 'server/src/generated/sqlite/client.ts')) },
  );

  if (existsSync(path.join(ROOT, 'native', 'Makefile'))) {
    step('Building the sandbox runtime (native/)');
    run('make', ['-s', '-C', 'native']);
  }
  if (process.getuid?.() === 0 && existsSync(path.join(ROOT, 'native', 'image', 'build-base.sh'))) {
    step('Preparing the sandbox base image');
    run('bash', ['native/image/build-base.sh']);
  }
  if (process.getuid?.() === 0 && existsSync(path.join(ROOT, 'server', 'src', 'images', 'build.ts'))) {
    step('Preparing the lesson images');
    run(tsx, ['server/src/images/build.ts']);
  }

  once(
    'next-build',
    ['web', 'lessons/src', 'lessons/package.json', 'package-lock.json'],
    () => {
      step('Building the web app');
      run('npm', ['run', 'build'], { cwd: path.join(ROOT, 'web') });
    },
    { check: () => existsSync(path.join(ROOT, 'web', '.next', 'BUILD_ID')) },
  );
}
