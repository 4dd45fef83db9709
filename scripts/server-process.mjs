// How `npm start` and `npm run start:replicas` run a server process: Node itself with tsx's loader on
// server/src/main.ts, as the service user when started by root. One way to start a server.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './lib.mjs';
import { DEFAULT_DATA_DIR, SERVICE_USER, serviceUser, serviceUserCanRead } from './service-user.mjs';

/** As root, the server runs as the service user: only native/ (setuid) keeps root's powers. */
export function serverUser() {
  if (process.getuid?.() !== 0) return {};
  const dataDir = process.env.DOCKSIDE_DATA_DIR;
  if (dataDir && path.resolve(dataDir) !== DEFAULT_DATA_DIR)
    throw new Error(
      `DOCKSIDE_DATA_DIR=${dataDir}: npm start serves from ${DEFAULT_DATA_DIR}, the one the setuid runtime accepts`,
    );
  const user = serviceUser();
  if (!user) throw new Error(`the system user ${SERVICE_USER} is missing (setup creates it)`);
  if (!serviceUserCanRead(ROOT))
    throw new Error(
      `${ROOT} is not readable by the user ${SERVICE_USER}: put the checkout where other users can read it`,
    );
  return { uid: user.uid, gid: user.gid, env: { ...process.env, HOME: '/nonexistent', USER: SERVICE_USER } };
}

/**
 * Spawns one server. No wrapper process: a service manager's SIGTERM to the whole group then reaches
 * the server itself, which keeps its sandboxes and exits (tsx's CLI would relay it and SIGKILL).
 * `user` is serverUser()'s answer; `env` is added to the environment.
 */
export function spawnServer({ user = {}, env = {}, stdio = 'inherit' } = {}) {
  return spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    stdio,
    ...user,
    env: { ...(user.env ?? process.env), ...env },
  });
}
