// `npm start`: set up what is missing (scripts/setup.mjs), then serve. A second start serves within seconds.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './lib.mjs';
import { setup } from './setup.mjs';

const setupOnly = process.argv.includes('--setup-only');
const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function serve() {
  const child = spawn(tsx, ['server/src/main.ts'], { cwd: ROOT, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

try {
  setup();
} catch (err) {
  console.error(`dockside: setup failed: ${err.message}`);
  process.exit(1);
}
if (!setupOnly) serve();
