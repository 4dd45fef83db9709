// `npm run sandboxes -- list | stop-all`: the operator's view of the sandboxes on this machine. Sandboxes
// (and their terminals) outlive the server; this is how they end all at once, with the server stopped.
// The next server start finds them gone and forgets them.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './lib.mjs';
import { runningServer } from './running-server.mjs';

const bin = path.join(ROOT, 'native', 'build', 'dockside-sandbox');

function runtime(args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env } });
  if (r.error) throw new Error(`${bin}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(r.stderr.trim() || `dockside-sandbox ${args[0]} exited with ${r.status}`);
  return r.stdout;
}

function main(command) {
  const sandboxes = JSON.parse(runtime(['list', '--json']));
  if (command === 'list') {
    for (const s of sandboxes)
      console.log(
        `${s.id}\t${s.running ? 'running' : 'stopped'}\tcreated ${new Date(s.createdAt * 1000).toISOString()}`,
      );
    console.log(`${sandboxes.length} sandbox${sandboxes.length === 1 ? '' : 'es'}`);
    return 0;
  }
  if (command === 'stop-all') {
    const pid = runningServer();
    if (pid) {
      console.error(`dockside: the server is running (pid ${pid}); stop it first, then run stop-all`);
      return 1;
    }
    let failed = 0;
    for (const [i, s] of sandboxes.entries()) {
      try {
        runtime(['destroy', s.id]);
        console.log(`[${i + 1}/${sandboxes.length}] ended ${s.id}`);
      } catch (err) {
        failed++;
        console.error(`[${i + 1}/${sandboxes.length}] ${s.id}: ${err.message}`);
      }
    }
    console.log(`${sandboxes.length - failed} of ${sandboxes.length} sandboxes ended`);
    return failed ? 1 : 0;
  }
  console.error('usage: npm run sandboxes -- list | stop-all');
  return 2;
}

try {
  process.exit(main(process.argv[2]));
} catch (err) {
  console.error(`dockside: ${err.message}`);
  process.exit(1);
}
