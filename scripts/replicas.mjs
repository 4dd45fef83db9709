// `npm run start:replicas -- N`: N server processes (replicas) on this machine, sharing its sandboxes and
// one PostgreSQL database, behind HAProxy on the public port (PORT, default 3000). Sets up what is
// missing first, as `npm start` does; starts the replicas one after the other (the first migrates the
// database); restarts a replica that dies; Ctrl-C stops them all (sandboxes and terminals stay).
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { checkHaproxyConfig, HAPROXY_BIN, haproxyArgs, haproxyConfig } from './haproxy.mjs';
import { run, step, which } from './lib.mjs';
import { forgetServer, recordServer, runningServer, stopServer } from './running-server.mjs';
import { serverUser, spawnServer } from './server-process.mjs';
import { DEFAULT_DATA_DIR } from './service-user.mjs';
import { setup } from './setup.mjs';

const MAX_REPLICAS = 16;
const NAMES = 'abcdefghijklmnop'.split('');

function fail(message) {
  console.error(`dockside: ${message}`);
  process.exit(1);
}

const redact = (url) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

function parseArgs() {
  const arg = process.argv[2] ?? '2';
  const count = Number(arg);
  if (!/^\d+$/.test(arg) || count < 1 || count > MAX_REPLICAS)
    fail(
      `start:replicas: ${JSON.stringify(arg)} is not a replica count from 1 to ${MAX_REPLICAS} (npm run start:replicas -- 2)`,
    );
  const databaseUrl = process.env.DATABASE_URL ?? '';
  if (!/^postgres(ql)?:\/\//.test(databaseUrl))
    fail(
      `start:replicas needs DATABASE_URL=postgres://…: replicas share one PostgreSQL database (SQLite serves one process only).\n` +
        `  To get one on this machine:\n` +
        `    apt-get install postgresql\n` +
        `    runuser -u postgres -- psql -c "CREATE ROLE dockside LOGIN PASSWORD 'choose-one'"\n` +
        `    runuser -u postgres -- createdb -O dockside dockside\n` +
        `  then: DATABASE_URL=postgres://dockside:choose-one@127.0.0.1:5432/dockside npm run start:replicas -- ${count}`,
    );
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 1 || port + count > 65535)
    fail(`PORT=${process.env.PORT}: a port number with room for the ${count} replicas' ports above it`);
  return { count, databaseUrl, port, host: process.env.HOST ?? '127.0.0.1' };
}

function ensureHaproxy() {
  if (existsSync(HAPROXY_BIN)) return;
  if (process.getuid?.() === 0 && which('apt-get')) {
    step('Installing the load balancer: haproxy');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'haproxy'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  if (!existsSync(HAPROXY_BIN)) fail(`${HAPROXY_BIN} is missing: apt-get install haproxy`);
}

/** Each line of a child's output, with the name of whoever wrote it in front. */
function relay(stream, name, rewrite = (l) => l) {
  readline.createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${rewrite(line)}`));
}

async function healthy(port) {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether a child process has not exited yet (by a code or a signal). */
const alive = (child) => Boolean(child) && child.exitCode === null && child.signalCode === null;

function accepts(host, port) {
  return new Promise((resolve) => {
    const c = net.connect(port, host);
    c.once('connect', () => resolve(true) || c.destroy());
    c.once('error', () => resolve(false));
  });
}

async function main() {
  const { count, databaseUrl, port, host } = parseArgs();
  ensureHaproxy();
  try {
    setup();
  } catch (err) {
    fail(`setup failed: ${err.message}`);
  }
  let user;
  try {
    user = serverUser();
  } catch (err) {
    fail(err.message);
  }
  const previous = runningServer();
  if (previous) {
    console.log(`dockside: stopping the server that serves now (pid ${previous}); sandboxes and terminals stay`);
    if (!stopServer(previous)) fail(`the running server (pid ${previous}) did not stop within 60 s`);
  }

  const dataDir = process.env.DOCKSIDE_DATA_DIR ?? DEFAULT_DATA_DIR;
  const dir = path.join(dataDir, 'server', 'replicas');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
  const replicas = NAMES.slice(0, count).map((name, i) => ({ name, port: port + 1 + i, child: null, since: 0 }));
  const adminSocket = path.join(dir, 'haproxy.sock');
  const configFile = path.join(dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig({ host, port, replicas, adminSocket }));
  checkHaproxyConfig(configFile);

  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const publicUrl = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  let stopping = false;
  const env = (r) => ({
    PORT: String(r.port),
    // Only the balancer listens where clients are; the replicas on loopback behind it.
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    // HAProxy appends the client's address to X-Forwarded-For: believe one proxy unless told otherwise.
    DOCKSIDE_TRUSTED_PROXIES: process.env.DOCKSIDE_TRUSTED_PROXIES ?? '1',
  });
  const start = (r) => {
    r.child = spawnServer({ user, env: env(r), stdio: ['ignore', 'pipe', 'pipe'] });
    r.since = Date.now();
    // The first instructor's link names the replica's own port; the operator opens the balancer's.
    const own = `http://127.0.0.1:${r.port}`;
    const rewrite = (line) => (line.includes('?setup=') ? line.replaceAll(own, publicUrl) : line);
    relay(r.child.stdout, r.name, rewrite);
    relay(r.child.stderr, r.name, rewrite);
  };

  // One after the other: the first migrates the database and makes the session secret the others read.
  const abort = async (message) => {
    stopping = true;
    const running = replicas.filter((r) => alive(r.child));
    await Promise.all(
      running.map((r) => {
        const exited = new Promise((ok) => r.child.once('exit', ok));
        r.child.kill('SIGTERM');
        return exited;
      }),
    );
    fail(message);
  };
  for (const r of replicas) {
    start(r);
    step(`Starting replica ${r.name} (pid ${r.child.pid}) on 127.0.0.1:${r.port}`);
    const until = Date.now() + 300_000;
    while (!(await healthy(r.port))) {
      const gone = replicas.find((x) => x.child && !alive(x.child));
      if (gone)
        return abort(
          `replica ${gone.name} exited (${gone.child.exitCode ?? gone.child.signalCode}) while starting; see its lines above`,
        );
      if (Date.now() > until) return abort(`replica ${r.name} did not answer /healthz within 5 minutes`);
      await sleep(200);
    }
  }

  // A replica that dies is started again, after a pause that grows while it keeps dying young.
  const delays = new Map();
  for (const r of replicas)
    r.child.on('exit', function restart(code, signal) {
      if (stopping) return;
      const young = Date.now() - r.since < 60_000;
      const delay = young ? Math.min(30_000, (delays.get(r.name) ?? 500) * 2) : 1000;
      delays.set(r.name, delay);
      console.error(
        `dockside: replica ${r.name} exited (${signal ?? `code ${code}`}); its learners reconnect to the others; restarting it in ${delay / 1000} s`,
      );
      setTimeout(() => {
        if (stopping) return;
        start(r);
        console.log(`dockside: replica ${r.name} restarted (pid ${r.child.pid})`);
        r.child.on('exit', restart);
      }, delay);
    });

  const haproxy = spawn(HAPROXY_BIN, haproxyArgs(configFile), {
    stdio: ['ignore', 'pipe', 'pipe'],
    // A port below 1024 needs root to bind; otherwise the balancer runs as the service user too.
    ...(port >= 1024 && user.uid !== undefined ? { uid: user.uid, gid: user.gid } : {}),
  });
  relay(haproxy.stdout, 'haproxy');
  relay(haproxy.stderr, 'haproxy');
  haproxy.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`dockside: HAProxy exited (${signal ?? `code ${code}`}); stopping the replicas`);
    void stopAll(1);
  });
  // Serving means the balancer accepts connections; HAProxy takes a moment to bind.
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const listenBy = Date.now() + 30_000;
  while (!(await accepts(reach, port))) {
    if (stopping) return;
    if (Date.now() > listenBy) return stopAll(1, `HAProxy did not listen on ${host}:${port} within 30 s`);
    await sleep(100);
  }
  recordServer();
  console.log(
    `dockside: serving on ${publicUrl} through HAProxy, round robin over ${replicas
      .map((r) => `${r.name} (127.0.0.1:${r.port})`)
      .join(', ')} on ${redact(databaseUrl)}; HAProxy's admin socket: ${adminSocket}`,
  );

  async function stopAll(exitCode, message) {
    if (stopping) return;
    stopping = true;
    if (message) console.error(`dockside: ${message}`);
    const running = [...replicas.map((r) => r.child), haproxy].filter(alive);
    await Promise.all(
      running.map(
        (c) =>
          new Promise((resolve) => {
            c.once('exit', resolve);
            c.kill('SIGTERM');
          }),
      ),
    );
    forgetServer();
    process.exit(exitCode);
  }
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stopAll(0));
}

await main();
