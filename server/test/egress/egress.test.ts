// Package installs through the egress proxy, against real squid, real sandboxes and their real engines:
// apt in a learner's Dockerfile and in `docker run`, the second sandbox served from squid's cache,
// refusals for hosts not listed and for this machine, and a server with DOCKSIDE_EGRESS=off.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxView } from '@dockside/protocol';
import { DOCKER_CONFIG_PATH, writeDockerClientConfig } from '../../src/egress/dockerConfig';
import { defaultEgressHosts } from '../../src/egress/settings';
import { hostAddresses } from '../../src/egress/squidConfig';
import { EgressBusyError, EgressSupervisor } from '../../src/egress/supervisor';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { startLessonRegistry } from '../../src/images/lessonRegistry';
import type { RegistrySupervisor } from '../../src/registry/supervisor';
import { Learner, request } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

const canRun = sandboxesAvailable() && existsSync('/usr/sbin/squid') && existsSync('/usr/bin/docker-registry');
// Short: unix socket paths must stay under 108 bytes.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ds-egr-'));
const rt = new NativeRuntime(dataDir);
// Sandbox ids name host cgroups and ranges name host uids: unique per run, so two runs never meet.
const A = `egr-a-${process.pid}`;
const B = `egr-b-${process.pid}`;
const range = 12000 + (process.pid % 1000) * 2;
const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 4 * 1024 ** 3 };
const INSTALL = 'FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n';

let registry: RegistrySupervisor;
let egress: EgressSupervisor;
/** A service on the host's loopback that no sandbox may reach. */
let hostService: Server;
let hostPort: number;

async function sh(id: string, script: string, timeoutMs = 300_000): Promise<{ code: number; out: string }> {
  const r = await rt.exec(id, ['sh', '-c', `${script} 2>&1`], { timeoutMs });
  return { code: r.code, out: r.stdout.toString() };
}

async function mustSh(id: string, script: string): Promise<string> {
  const r = await sh(id, script);
  if (r.code !== 0) throw new Error(`exit ${r.code} in ${id}: ${script}\n${r.out}`);
  return r.out;
}

const accessLog = () => readFileSync(path.join(egress.paths.logDir, 'access.log'), 'utf8');
/** Squid's access log lines for curl's .deb since `from` characters. */
const debLines = (from: number) =>
  accessLog()
    .slice(from)
    .split('\n')
    .filter((l) => /\/pool\/main\/c\/curl\/curl_[^ ]+\.deb /.test(l));

beforeAll(async () => {
  if (!canRun) return;
  ({ registry } = await startLessonRegistry({ dataDir, cacheDir: path.join(SHARED_DATA_DIR, 'images', 'lessons') }));
  // `localhost` is allowed here only to prove that an allowed name resolving to this machine is refused.
  egress = await new EgressSupervisor(dataDir, {
    allow: [...defaultEgressHosts(), 'localhost'],
    log: () => {},
  }).start();
  hostService = createServer((_req, res) => res.end('host secret\n'));
  await new Promise<void>((resolve) => hostService.listen(0, '0.0.0.0', resolve));
  hostPort = (hostService.address() as { port: number }).port;
  mkdirSync(path.join(dataDir, 'images'), { recursive: true });
  symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
  await Promise.all([rt.create(A, range, limits), rt.create(B, range + 1, limits)]);
  await Promise.all([writeDockerClientConfig(rt, A), writeDockerClientConfig(rt, B)]);
  await mustSh(A, `mkdir -p /tmp/app && printf '${INSTALL.replaceAll('\n', '\\n')}' > /tmp/app/Dockerfile`);
  await mustSh(B, `mkdir -p /tmp/app && printf '${INSTALL.replaceAll('\n', '\\n')}' > /tmp/app/Dockerfile`);
}, 300_000);

afterAll(async () => {
  if (!canRun) return;
  for (const id of [A, B]) await rt.destroy(id).catch(() => {});
  hostService?.close();
  await egress?.stop();
  await registry?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.runIf(canRun)('package installs through the egress proxy', () => {
  it('installs curl in a learner’s Dockerfile with no proxy typed: the build args come from the client configuration', async () => {
    const from = accessLog().length;
    const out = await mustSh(A, 'docker build --progress=plain -t withcurl /tmp/app');
    expect(out).toMatch(/Setting up curl/);
    expect(await mustSh(A, 'docker run --rm withcurl curl --version')).toMatch(/^curl \d+\.\d+/);
    // Fetched through squid from the Debian mirror, not from its cache yet.
    expect(debLines(from).join('\n')).toMatch(/TCP_MISS\/200 .* GET http:\/\/deb\.debian\.org\//);
  }, 600_000);

  it('serves the second sandbox installing the same package from its cache', async () => {
    const from = accessLog().length;
    await mustSh(B, 'docker build --progress=plain -t withcurl /tmp/app');
    const lines = debLines(from);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/TCP_(MEM_)?HIT\/200/);
  }, 600_000);

  it('installs with apt-get in `docker run debian`, through the same environment', async () => {
    const out = await mustSh(
      A,
      'docker run --rm debian:bookworm bash -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends jq >/dev/null && jq --version && echo \\$http_proxy"',
    );
    expect(out).toMatch(/jq-1\.\d/);
    expect(out).toContain('http://172.17.0.1:3128');
  }, 600_000);

  it('reaches the npm registry over https (CONNECT) from a container', async () => {
    // -k: the image has no CA bundle (curl came without recommends); the tunnel is what is tried here.
    const out = await mustSh(A, 'docker run --rm withcurl curl -sSk https://registry.npmjs.org/zod/latest');
    expect(JSON.parse(out).name).toBe('zod');
    expect(accessLog()).toMatch(/TCP_TUNNEL\/200 \d+ CONNECT registry\.npmjs\.org:443/);
  }, 300_000);

  it('reaches the proxy from a user-defined network and from a compose project', async () => {
    const fetch = 'curl -sS -o /dev/null -w "code %{http_code}" http://deb.debian.org/debian/';
    const own = await mustSh(
      A,
      `docker network create egr-net >/dev/null && docker run --rm --network egr-net withcurl ${fetch}`,
    );
    expect(own).toContain('code 200');
    const compose = await mustSh(
      A,
      `mkdir -p /tmp/stack && cd /tmp/stack && cat > compose.yaml <<'EOF'
services:
  app:
    image: withcurl
    command: ${fetch}
EOF
docker compose run --rm app`,
    );
    expect(compose).toContain('code 200');
  }, 300_000);

  it('refuses a host that is not listed at once, naming the hosts this Dockside allows', async () => {
    let t = Date.now();
    const plain = await sh(A, 'docker run --rm withcurl curl -sS -i http://example.com/');
    expect(Date.now() - t).toBeLessThan(10_000);
    expect(plain.out).toContain('403 Forbidden');
    expect(plain.out).toContain('Dockside refused http://example.com/: this Dockside lets sandboxes reach only');
    expect(plain.out).toContain('deb.debian.org, registry.npmjs.org');
    t = Date.now();
    const tls = await sh(A, 'docker run --rm withcurl curl -sS https://github.com/');
    expect(Date.now() - t).toBeLessThan(10_000);
    expect(tls.code).not.toBe(0);
    expect(tls.out).toContain('CONNECT tunnel failed, response 403');
    // An allowed host on another port, or https elsewhere than 443, is refused too.
    const port = await sh(A, 'docker run --rm withcurl curl -sS http://deb.debian.org:8080/');
    expect(port.out).toContain('Dockside refused http://deb.debian.org:8080/');
    const connect = await sh(A, 'docker run --rm withcurl curl -sS -p http://deb.debian.org:22/');
    expect(connect.out).toContain('CONNECT tunnel failed, response 403');
  }, 120_000);

  it('refuses destinations on this machine: its loopback, its own addresses, a name that resolves to it', async () => {
    const external = hostAddresses().find((a) => !a.startsWith('127.') && a.includes('.'));
    const targets = [`http://127.0.0.1:${hostPort}/`, `http://localhost:${hostPort}/`, 'http://localhost/'];
    if (external) targets.push(`http://${external}:${hostPort}/`);
    // --noproxy '': through the proxy even for the names the configuration sends direct.
    const script = targets.map((u) => `curl -sS --noproxy '' ${u}; echo`).join('; ');
    const out = (await sh(A, `docker run --rm withcurl sh -c "${script}"`)).out;
    expect(out).not.toContain('host secret');
    expect(out).toContain(`Dockside refused http://127.0.0.1:${hostPort}/`);
    expect(out).toContain(
      'Dockside refused http://localhost/: sandboxes may not reach this machine or private networks',
    );
    if (external) expect(out).toContain(`Dockside refused http://${external}:${hostPort}/`);
    // Nor around the proxy: the host's loopback and squid's own port are not in the sandbox's network.
    const direct = await sh(
      A,
      `curl -sS -m 3 http://127.0.0.1:${egress.squidPort}/; curl -sS -m 3 http://127.0.0.1:${hostPort}/`,
    );
    expect(direct.out).not.toContain('host secret');
    expect(direct.out).toMatch(/Connection refused|Failed to connect/);
  }, 120_000);

  it('comes back when squid is killed, on the same socket, its cache kept', async () => {
    const pid = egress.pid()!;
    const ready = new Promise<void>((resolve) =>
      egress.on('event', (e) => {
        if (e.type === 'ready' && e.pid !== pid) resolve();
      }),
    );
    process.kill(pid, 'SIGKILL');
    await ready;
    const from = accessLog().length;
    await mustSh(A, 'docker run --rm debian:bookworm sh -c "cd /tmp && apt-get update -qq && apt-get download curl"');
    expect(debLines(from).join('\n')).toMatch(/TCP_(MEM_)?HIT\/200/);
  }, 120_000);

  it('keeps one proxy per data dir: a second supervisor leaves the running one alone', async () => {
    await expect(
      new EgressSupervisor(dataDir, { allow: ['deb.debian.org'], log: () => {} }).start(),
    ).rejects.toBeInstanceOf(EgressBusyError);
    expect(
      (await sh(B, 'docker run --rm withcurl curl -sS -o /dev/null -w "%{http_code}" http://deb.debian.org/debian/'))
        .out,
    ).toBe('200');
  }, 120_000);
});

describe.runIf(canRun)('a server with DOCKSIDE_EGRESS=off', () => {
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-egress-'));
  let server: RunningServer;

  beforeAll(async () => {
    // The same data dir and registry, with no proxy left in the forward dir.
    await egress.stop();
    expect(existsSync(egress.paths.socket)).toBe(false);
    server = await startServer({
      DOCKSIDE_DATA_DIR: dataDir,
      DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
      DOCKSIDE_EGRESS: 'off',
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it('gives sandboxes no proxy configuration and starts no proxy: apt reaches nothing', async () => {
    const learner = await Learner.join(server.url);
    const socket = learner.socket();
    try {
      const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
      if (!r.ok) throw new Error(r.error.message);
      const config = await sh(r.value.id, `cat ${DOCKER_CONFIG_PATH}`);
      expect(config.out).toContain('No such file or directory');
      // apt-get update only warns when it cannot fetch; the install then finds nothing.
      const apt = await sh(
        r.value.id,
        'docker run --rm debian:bookworm sh -c "apt-get update; apt-get install -y --no-install-recommends curl"',
      );
      expect(apt.code).not.toBe(0);
      expect(apt.out).toMatch(/Temporary failure resolving 'deb\.debian\.org'|Could not resolve/);
      expect(existsSync(egress.paths.socket)).toBe(false);
      expect(server.output()).not.toContain('squid');
    } finally {
      socket.close();
    }
  }, 300_000);
});

describe.runIf(canRun)('a server with egress on (the default)', () => {
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-egress-on-'));
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ DOCKSIDE_DATA_DIR: dataDir, DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}` });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it('runs its own squid as the service user and configures every sandbox it prepares', async () => {
    expect(server.output()).toMatch(/egress: squid ready \(pid \d+\)/);
    const squid = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .find((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${dataDir}/egress/squid.conf`);
        } catch {
          return false;
        }
      });
    expect(squid).toBeDefined();
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${squid}/status`, 'utf8'))![1]);
    expect(uid).not.toBe(0);
    const learner = await Learner.join(server.url);
    const socket = learner.socket();
    try {
      const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
      if (!r.ok) throw new Error(r.error.message);
      const config = JSON.parse((await mustSh(r.value.id, `cat ${DOCKER_CONFIG_PATH}`)).trim());
      expect(config.proxies.default.httpProxy).toBe('http://172.17.0.1:3128');
      const out = await mustSh(
        r.value.id,
        'docker run --rm debian:bookworm sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends curl >/dev/null && curl --version"',
      );
      expect(out).toMatch(/curl \d+\.\d+/);
    } finally {
      socket.close();
    }
  }, 300_000);
});
