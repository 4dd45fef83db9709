import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

// The real server on its own port and database, in Debian's Chromium (no browser download here). It uses
// the data dir `npm start`/`npm test` prepared (base image, lesson images, registry) for real sandboxes.
const PORT = Number(process.env.E2E_PORT ?? 3199);
const dataDir = process.env.E2E_DATA_DIR ?? '/var/lib/dockside';
const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-'));
const root = path.resolve(import.meta.dirname, '..');
// The first instructor's set-up code, given to the server (nothing kept in the shared data dir) and to the
// tests: the workers inherit this process's environment, so they see the same one.
process.env.E2E_SETUP_CODE ??= `E2E-${randomBytes(9).toString('hex').toUpperCase()}`;
// A tutorial site on another origin, allowed to frame /embed (embed.spec.ts serves it; the port after it is
// a site that is not allowed).
process.env.E2E_EMBEDDER_PORT ??= String(PORT + 1);

export default defineConfig({
  testDir: './tests',
  timeout: 180_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  webServer: {
    // One process, no wrapper: Playwright signals the whole process group, and tsx's CLI, signalled
    // too, would SIGKILL a server still ending its sandboxes (a full run left 26 running).
    command: 'node --import tsx server/src/main.ts',
    cwd: root,
    url: `http://127.0.0.1:${PORT}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    // SIGTERM lets the server destroy its sandboxes (a few dozen by the end); Playwright's default SIGKILL,
    // or one too soon, would leave them running.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 90_000 },
    env: {
      PORT: String(PORT),
      HOST: '127.0.0.1',
      DOCKSIDE_DATA_DIR: dataDir,
      DATABASE_URL: `file:${path.join(dbDir, 'e2e.db')}`,
      DOCKSIDE_POOL_SIZE: '1',
      DOCKSIDE_KEEP_SANDBOXES: '0',
      // Every test is a new learner with a sandbox until the run ends: the host must hold all their disks.
      DOCKSIDE_SANDBOX_DISK: '1G',
      // Every test's browser is a new learner from 127.0.0.1.
      DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS: '1000',
      DOCKSIDE_SANDBOX_STARTS_PER_HOUR: '100000',
      DOCKSIDE_NEW_LEARNERS_PER_HOUR: '100000',
      DOCKSIDE_SETUP_CODE: process.env.E2E_SETUP_CODE,
      DOCKSIDE_EMBED_ORIGINS: `http://localhost:${process.env.E2E_EMBEDDER_PORT}`,
    },
  },
});
