// The `npm start` (or `npm run start:replicas`) that is serving, found by its pid file in the data dir,
// so a second `npm start` (an upgrade: git pull, npm start) can stop it and `npm run sandboxes` can
// refuse to pull sandboxes from under it.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DATA_DIR } from './service-user.mjs';

const pidFile = () => path.join(process.env.DOCKSIDE_DATA_DIR ?? DEFAULT_DATA_DIR, 'start.pid');

/** The pid of the `npm start` that serves from this data dir, if one does. */
export function runningServer() {
  let pid;
  try {
    pid = Number(readFileSync(pidFile(), 'utf8'));
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return undefined;
  try {
    // `npm start`, or `npm run start:replicas` (its replicas and balancer).
    return /scripts\/(start|replicas)\.mjs/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function recordServer() {
  writeFileSync(pidFile(), String(process.pid));
}

export function forgetServer() {
  if (runningServer() === undefined) rmSync(pidFile(), { force: true });
}

/** Stops it with SIGTERM (its sandboxes and terminals stay) and waits until it has gone, at most `ms`. */
export function stopServer(pid, ms = 60_000) {
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      readFileSync(`/proc/${pid}/cmdline`);
    } catch {
      return true;
    }
    if (Date.now() > until) return false;
    Atomics.wait(pause, 0, 0, 100);
  }
}
