// `npm start`: set up what is missing (scripts/setup.mjs), then serve. A second start serves within seconds.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './lib.mjs';
import { setup } from './setup.mjs';
import { forgetServer, recordServer, runningServer, stopServer } from './running-server.mjs';
import { DEFAULT_DATA_DIR, SERVICE_USER, serviceUser, serviceUserCanRead } from './service-user.mjs';

const setupOnly = process.argv.includes('--setup-only');

/** As root, the server runs as the service user: only native/ (setuid) keeps root's powers. */
function serverUser() {
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

function serve() {
  let user;
  try {
    user = serverUser();
  } catch (err) {
    console.error(`dockside: ${err.message}`);
    process.exit(1);
  }
  // An upgrade (git pull, npm start): the one serving stops only now that setup is done; its sandboxes
  // and terminals stay, and the new server attaches to them.
  const previous = runningServer();
  if (previous) {
    console.log(`dockside: restarting the server (pid ${previous}); sandboxes and terminals stay`);
    if (!stopServer(previous)) {
      console.error(`dockside: the running server (pid ${previous}) did not stop within 60 s`);
      process.exit(1);
    }
  }
  // Node itself with tsx's loader, no wrapper process: a service manager's SIGTERM to the whole group
  // then reaches one server, which keeps its sandboxes and exits (tsx's CLI would relay it and SIGKILL).
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    stdio: 'inherit',
    ...user,
  });
  recordServer();
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    forgetServer();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

try {
  setup();
} catch (err) {
  console.error(`dockside: setup failed: ${err.message}`);
  process.exit(1);
}
if (!setupOnly) serve();
