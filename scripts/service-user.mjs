// The unprivileged user the server runs as under `npm start`. Only native/dockside-sandbox (setuid root,
// executable by this user's group alone) does privileged work on its behalf.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const SERVICE_USER = 'dockside';
// The setuid runtime ignores DOCKSIDE_DATA_DIR for a non-root caller: it uses the dir compiled in.
export const DEFAULT_DATA_DIR = '/var/lib/dockside';

/** The service user's ids, or undefined when it does not exist (yet). */
export function serviceUser() {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === SERVICE_USER) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Whether the service user can read `dir` (every parent must let it through). */
export function serviceUserCanRead(dir) {
  const user = serviceUser();
  if (!user) return false;
  const r = spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', 'test', '-r', dir]);
  return r.status === 0;
}
