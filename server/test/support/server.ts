// Starts the real Dockside process (server/src/main.ts) on a free port with its own data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths';

export type RunningServer = {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** The node process that serves (tsx runs it as a child of its own). */
  serverPid: () => number;
  output: () => string;
  /** The first instructor's set-up code (given in the environment, so nothing is kept in the data dir). */
  setupCode: string;
  stop: () => Promise<void>;
};

function nodeUnderTsx(pid: number): number {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : pid;
  } catch {
    return pid;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const SESSION_SECRET = randomBytes(32).toString('base64url');

/** Runs main.ts to completion (for start-up failures): exit code and output. */
export function runMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, ['server/src/main.ts'], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `as` runs it as another user, the way `npm start` runs it as the service user. */
export async function startServer(
  env: Record<string, string> = {},
  as?: { uid: number; gid: number },
): Promise<RunningServer> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const dataDir = env.DOCKSIDE_DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'dockside-server-'));
  const setupCode = env.DOCKSIDE_SETUP_CODE ?? `TEST-${randomBytes(9).toString('hex').toUpperCase()}`;
  const child = spawn(TSX, ['server/src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DOCKSIDE_DATA_DIR: dataDir,
      DOCKSIDE_POOL_SIZE: '0',
      // A test's sandboxes end with its server, unless it tests a restart.
      DOCKSIDE_KEEP_SANDBOXES: '0',
      // Tests and benchmarks hold many sandboxes at once; the runtime refuses disks the host cannot hold.
      DOCKSIDE_SANDBOX_DISK: '2G',
      // Their learners all come from 127.0.0.1; the tests of the limits set their own.
      DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS: '1000',
      DOCKSIDE_SANDBOX_STARTS_PER_HOUR: '100000',
      DOCKSIDE_NEW_LEARNERS_PER_HOUR: '100000',
      // Neither is persisted: a server run as root must not leave root's files in a shared data dir. The
      // secret is this process's, so a server restarted by a test keeps its learners' sessions.
      SESSION_SECRET,
      DOCKSIDE_SETUP_CODE: setupCode,
      ...env,
    },
    ...as,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).status < 600) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not start within 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    child,
    serverPid: () => nodeUnderTsx(child.pid!),
    output: () => out,
    setupCode,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!env.DOCKSIDE_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
