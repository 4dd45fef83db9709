// `npm start`: set up what is missing (scripts/setup.mjs), then serve. A second start serves within seconds.
import { setup } from './setup.mjs';
import { forgetServer, recordServer, runningServer, stopServer } from './running-server.mjs';
import { serverUser, spawnServer } from './server-process.mjs';

const setupOnly = process.argv.includes('--setup-only');

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
  const child = spawnServer({ user });
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
