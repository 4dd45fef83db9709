// The load balancer in front of several server processes (replicas) on one machine: Debian's HAProxy,
// with the configuration written here. Used by `npm run start:replicas` and by the two-replica tests,
// so both run the balancer the same way. Plain Node, no dependencies.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

/** The response header that names the replica that answered (what an operator or a test looks at). */
export const REPLICA_HEADER = 'X-Dockside-Replica';

/**
 * The configuration: one public port, round robin over the replicas with no stickiness (the browser
 * speaks WebSocket only, so any replica can take any connection), health checks on `/healthz`, and
 * WebSockets tunnelled for up to `tunnel` idle time (a terminal sits quiet for long). A replica that
 * refuses connections (it died) is skipped at once: the request is sent to another (`redispatch`),
 * before the health check has marked it down. The check runs every half second (two failures: down), so a
 * replica killed and restarted (start:replicas waits 1 s, then it starts in 2-3 s) is marked down and
 * back up, as the operator's log then says; at 2 s it could come back between two checks unseen.
 *
 * @param {{ host: string, port: number, replicas: { name: string, port: number }[], adminSocket: string,
 *   tunnel?: string }} o
 */
export function haproxyConfig({ host, port, replicas, adminSocket, tunnel = '1h' }) {
  if (!replicas.length) throw new Error('haproxyConfig: no replicas');
  for (const r of replicas)
    if (!/^[a-z][a-z0-9-]*$/.test(r.name)) throw new Error(`haproxyConfig: bad replica name ${JSON.stringify(r.name)}`);
  return [
    'global',
    // Runtime commands (show stat, set server … state maint) for the operator and the tests.
    `  stats socket ${adminSocket} mode 600 level admin`,
    // In the foreground HAProxy writes a replica going DOWN or UP to stderr; requests are not logged.
    '',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout http-request 15s',
    '  timeout client 60s',
    // Some API answers take a while (a layer's file list, an exercise's preparation).
    '  timeout server 300s',
    `  timeout tunnel ${tunnel}`,
    '  timeout client-fin 5s',
    '  retries 3',
    '  option redispatch 1',
    // A replica killed mid-request closes without answering: a GET (a page, a WebSocket upgrade) is
    // sent to another; anything that may change state is not sent twice.
    '  retry-on conn-failure empty-response',
    // Appends the client's address; the replicas believe one proxy (DOCKSIDE_TRUSTED_PROXIES=1).
    '  option forwardfor',
    '',
    'frontend dockside',
    `  bind ${host}:${port}`,
    '  default_backend replicas',
    '',
    'backend replicas',
    '  balance roundrobin',
    '  http-request disable-l7-retry if !METH_GET !METH_HEAD',
    '  option httpchk',
    '  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost',
    '  http-check expect status 200',
    `  http-response set-header ${REPLICA_HEADER} %s`,
    '  default-server check inter 500 fall 2 rise 2',
    ...replicas.map((r) => `  server ${r.name} 127.0.0.1:${r.port}`),
    '',
  ].join('\n');
}

/** Checks a written configuration with HAProxy itself; throws its complaint. */
export function checkHaproxyConfig(file) {
  if (!existsSync(HAPROXY_BIN)) throw new Error(`${HAPROXY_BIN} is missing (apt-get install haproxy)`);
  const r = spawnSync(HAPROXY_BIN, ['-c', '-f', file], { encoding: 'utf8' });
  const alerts = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('[ALERT]'));
  if (r.status !== 0) throw new Error(`HAProxy refused ${file}: ${alerts.join('; ') || `exit ${r.status}`}`);
}

/** The arguments that run HAProxy in the foreground (`-db`) on a configuration file. */
export function haproxyArgs(file) {
  return ['-db', '-f', file];
}

/** Sends one runtime command to HAProxy's admin socket and returns its answer. */
export function haproxyCommand(adminSocket, command) {
  return new Promise((resolve, reject) => {
    const c = net.connect(adminSocket);
    let out = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.end(`${command}\n`));
    c.on('data', (d) => (out += d));
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

/**
 * Each replica's state as HAProxy sees it (`show stat`): UP, DOWN, MAINT… and its current sessions
 * (a WebSocket counts as one while it is open).
 * @returns {Promise<Record<string, { status: string, sessions: number }>>}
 */
export async function replicaStates(adminSocket) {
  const csv = await haproxyCommand(adminSocket, 'show stat');
  const [header, ...lines] = csv.trim().split('\n');
  const cols = header.replace(/^# /, '').split(',');
  const at = (name) => cols.indexOf(name);
  const states = {};
  for (const line of lines) {
    const f = line.split(',');
    if (f[at('pxname')] !== 'replicas' || ['FRONTEND', 'BACKEND'].includes(f[at('svname')])) continue;
    states[f[at('svname')]] = { status: f[at('status')], sessions: Number(f[at('scur')]) };
  }
  return states;
}
