import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root; every other path the server needs is derived from it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIR = path.join(REPO_ROOT, 'web');
export const NATIVE_BUILD_DIR = path.join(REPO_ROOT, 'native', 'build');

export const PRISMA = {
  sqlite: {
    schema: path.join(REPO_ROOT, 'prisma', 'schema.prisma'),
    migrations: path.join(REPO_ROOT, 'prisma', 'migrations'),
  },
  postgresql: {
    schema: path.join(REPO_ROOT, 'prisma', 'postgresql', 'schema.prisma'),
    migrations: path.join(REPO_ROOT, 'prisma', 'postgresql', 'migrations'),
  },
} as const;
