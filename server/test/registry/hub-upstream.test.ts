// The Docker Hub stand-in from real sandboxes: what `docker pull` says for an image the registry does not
// carry, `docker search` over the catalogue, and DOCKSIDE_REGISTRY_UPSTREAM, the registry as a
// pull-through cache of another registry. The upstream is a second docker-registry of this test's (on a unix socket), reached over TCP on
// 127.0.0.1 through a small front that counts the blobs it serves and can be cut off like a network.
// It holds an `alpine` the catalogue does not have, and a `busybox` of its own that must never win over
// the catalogue's.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { buildLessonImages } from '../../src/images/build';
import { loadCatalogue } from '../../src/images/catalogue';
import { MANIFEST_V2, RegistryClient } from '../../src/images/registryClient';
import { registryAnswers } from '../../src/registry/probe';
import { RegistrySupervisor } from '../../src/registry/supervisor';
import type { Upstream } from '../../src/registry/upstream';
import { busyboxTar } from '../support/images';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/docker-registry') && sandboxesAvailable();
// Short: unix socket paths must stay under 108 bytes.
const dir = mkdtempSync(path.join(os.tmpdir(), 'ds-up-'));
const dataDir = path.join(dir, 'data');
const upstreamSocket = path.join(dir, 'upstream.sock');
let upstreamRegistry: ChildProcess | undefined;
let front: Server | undefined;
let frontPort = 0;
let registry: RegistrySupervisor | undefined;
/** Blob GETs the upstream answered, through the front. */
let upstreamBlobGets = 0;

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes a one-layer image (the host's busybox, and a file saying which image it is) to the upstream. */
async function pushToUpstream(repository: string, says: string): Promise<string> {
  const root = mkdtempSync(path.join(dir, 'img-'));
  writeFileSync(path.join(root, 'which'), `${says}\n`);
  // The second, tiny layer is what makes each image its own.
  const own = execFileSync('tar', ['-C', root, '-c', 'which']);
  rmSync(root, { recursive: true, force: true });
  const layers = [busyboxTar(), own].map((tar) => ({ tar, gz: gzipSync(tar) }));
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/cat', '/which'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) },
    history: layers.map((_, i) => ({ created_by: `upstream layer ${i + 1}` })),
  });
  const client = new RegistryClient(upstreamSocket);
  for (const l of layers) await client.pushBlob(repository, sha256(l.gz), l.gz);
  await client.pushBlob(repository, sha256(config), Buffer.from(config));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_V2,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: config.length,
      digest: sha256(config),
    },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      size: l.gz.length,
      digest: sha256(l.gz),
    })),
  });
  await client.pushManifest(repository, 'latest', manifest);
  return sha256(manifest);
}

/** The front: the upstream on 127.0.0.1:<port>, counting blob GETs. */
function startFront(port = 0): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '')) upstreamBlobGets++;
    const out = request(
      { socketPath: upstreamSocket, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function stopFront(): Promise<void> {
  const f = front;
  front = undefined;
  if (!f) return;
  f.closeAllConnections();
  await new Promise((r) => f.close(r));
}

/** A registry for `data` serving the catalogue's images npm start built (shared cache; nothing is built here). */
async function startRegistry(data: string, upstream: Upstream | null): Promise<RegistrySupervisor> {
  mkdirSync(path.join(data, 'images'), { recursive: true });
  symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(data, 'images', 'base'));
  const started = await new RegistrySupervisor(data, { log: () => {}, upstream }).start();
  await buildLessonImages({
    dataDir: data,
    cacheDir: path.join(SHARED_DATA_DIR, 'images', 'lessons'),
    build: false,
    log: () => {},
  });
  return started;
}

/** What the mirror serves, as the refusals list it: `busybox, debian, …`. */
async function carriedList(mirrorSocket: string): Promise<string> {
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: mirrorSocket, path: '/v2/_catalog?n=1000' }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
  const names = (JSON.parse(body) as { repositories: string[] }).repositories
    .filter((r) => r.startsWith('library/'))
    .map((r) => r.slice('library/'.length))
    .sort();
  expect(names).toContain('busybox');
  return names.join(', ');
}

async function sh(rt: NativeRuntime, id: string, script: string): Promise<string> {
  const r = await rt.exec(id, ['sh', '-c', script], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code} in ${id}: ${script}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.toString();
}

// After every describe's own clean-up, also when a filter (-t) ran only one of them.
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 4 * 1024 ** 3 };
// Ranges name host uids and stay within the runtime's 1..16383; others' tests use lower ones.
const range = 16000 + (process.pid % 125) * 3;

describe.runIf(canRun)('images the registry does not carry, and docker search', () => {
  const plainDir = path.join(dir, 'plain');
  const rt = new NativeRuntime(plainDir);
  const C = `hup-c-${process.pid}`;
  let plain: RegistrySupervisor | undefined;
  let carried = '';

  beforeAll(async () => {
    plain = await startRegistry(plainDir, null);
    carried = await carriedList(plain.paths.mirrorSocket);
    await rt.create(C, range + 2, limits);
  }, 120_000);

  afterAll(async () => {
    await rt.destroy(C).catch(() => {});
    await plain?.stop();
  });

  it("refuses ubuntu, alpine and centos in Docker's words, saying what this registry carries, at once", async () => {
    for (const name of ['ubuntu', 'alpine', 'centos']) {
      const started = Date.now();
      const r = await rt.exec(C, ['docker', 'pull', name]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.toString().trim()).toBe(
        `Error response from daemon: pull access denied for ${name}, repository does not exist or may require 'docker login': denied: Dockside's registry does not carry ${name}; it has: ${carried}`,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    // `docker run` says the same after "Unable to find image".
    const run = await rt.exec(C, ['docker', 'run', '--rm', 'ubuntu', 'true']);
    expect(run.stderr).toContain("Unable to find image 'ubuntu:latest' locally");
    expect(run.stderr).toContain(`denied: Dockside's registry does not carry ubuntu; it has: ${carried}`);
  });

  it("answers docker search from the catalogue, with each image's description", async () => {
    const redis = loadCatalogue().find((i) => i.repository === 'redis')!;
    const out = await sh(rt, C, 'docker search --no-trunc redis');
    // Docker 25 and later print no AUTOMATED column (Docker Hub dropped automated builds).
    expect(out).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL(\s+AUTOMATED)?$/m);
    const row = out.split('\n').find((l) => l.startsWith('redis '))!;
    expect(row).toContain(redis.description.en);
    expect(row).toMatch(/\s0\s+\[OK\]\s*$/);
    // A word of a description finds the image too; a name nobody carries finds nothing.
    expect(await sh(rt, C, 'docker search --format "{{.Name}}" "web server"')).toMatch(/^nginx$/m);
    expect(await sh(rt, C, 'docker search --format "{{.Name}}" ubuntu')).toBe('');
  });
});

describe.runIf(canRun)('a registry upstream (DOCKSIDE_REGISTRY_UPSTREAM)', () => {
  const rt = new NativeRuntime(dataDir);
  const A = `hup-a-${process.pid}`;
  const B = `hup-b-${process.pid}`;
  let upstreamBusybox = '';
  let catalogueBusybox = '';
  let carried = '';

  beforeAll(async () => {
    const config = path.join(dir, 'upstream.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log: { level: error, accesslog: { disabled: true } }',
        `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'upstream-storage'))} } }`,
        `http: { net: unix, addr: ${JSON.stringify(upstreamSocket)} }`,
        '',
      ].join('\n'),
    );
    upstreamRegistry = spawn('setpriv', ['--pdeathsig', 'KILL', '--', '/usr/bin/docker-registry', 'serve', config], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 400 && !(await registryAnswers(upstreamSocket)); i++)
      await new Promise((r) => setTimeout(r, 25));
    await pushToUpstream('library/alpine', 'alpine from the upstream');
    upstreamBusybox = await pushToUpstream('library/busybox', 'busybox from the upstream');
    front = await startFront();
    frontPort = (front.address() as AddressInfo).port;
    registry = await startRegistry(dataDir, { url: `http://127.0.0.1:${frontPort}` });
    carried = await carriedList(registry.paths.mirrorSocket);
    catalogueBusybox = (await new RegistryClient(registry.paths.mirrorSocket).manifestDigest(
      'library/busybox',
      'latest',
    ))!;
    await Promise.all([rt.create(A, range, limits), rt.create(B, range + 1, limits)]);
  }, 300_000);

  afterAll(async () => {
    for (const id of [A, B]) await rt.destroy(id).catch(() => {});
    await registry?.stop();
    await stopFront();
    upstreamRegistry?.kill('SIGKILL');
  });

  it('pulls an image only the upstream has through the cache, and runs it', async () => {
    const out = await sh(rt, A, 'docker pull alpine 2>&1');
    expect(out).toContain('latest: Pulling from library/alpine');
    expect(out).toContain('Status: Downloaded newer image for alpine:latest');
    expect(await sh(rt, A, 'docker run --rm alpine')).toBe('alpine from the upstream\n');
    // The config and both layers came from the upstream.
    expect(upstreamBlobGets).toBeGreaterThanOrEqual(3);
  });

  it('serves the second pull, in another sandbox, from the cache: no blob is fetched again', async () => {
    const before = upstreamBlobGets;
    const out = await sh(rt, B, 'docker pull alpine 2>&1');
    expect(out).toContain('Status: Downloaded newer image for alpine:latest');
    expect(await sh(rt, B, 'docker run --rm alpine')).toBe('alpine from the upstream\n');
    expect(upstreamBlobGets).toBe(before);
  });

  it("keeps the catalogue's images over the upstream's of the same name", async () => {
    const out = await sh(rt, A, 'docker pull busybox 2>&1');
    expect(out).toContain(`Digest: ${catalogueBusybox}`);
    expect(catalogueBusybox).not.toBe(upstreamBusybox);
  });

  it('names both registries when neither has an image', async () => {
    const r = await rt.exec(A, ['docker', 'pull', 'ubuntu']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `Error response from daemon: pull access denied for ubuntu, repository does not exist or may require 'docker login': denied: neither Dockside's registry nor its upstream 127.0.0.1:${frontPort} has ubuntu:latest; Dockside's registry has: ${carried}`,
    );
  });

  it('with the upstream down, still serves the catalogue and what it cached, and says why others fail', async () => {
    await stopFront();
    const busybox = await sh(rt, B, 'docker pull busybox 2>&1');
    expect(busybox).toContain('Status: Downloaded newer image for busybox:latest');
    // alpine is in the cache: a fresh engine still gets it.
    await sh(rt, B, 'docker rmi alpine >/dev/null');
    expect(await sh(rt, B, 'docker pull alpine 2>&1')).toContain('Status: Downloaded newer image for alpine:latest');
    const started = Date.now();
    const r = await rt.exec(B, ['docker', 'pull', 'ubuntu']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `Error response from daemon: pull access denied for ubuntu, repository does not exist or may require 'docker login': denied: Dockside's registry does not carry ubuntu, and its upstream 127.0.0.1:${frontPort} could not be reached (connection refused); it has: ${carried}`,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('starts while the upstream is down, and pulls through once it is back', async () => {
    // A server starting now: the cache cannot start (distribution checks its upstream first).
    const late = await startRegistry(path.join(dir, 'late'), { url: `http://127.0.0.1:${frontPort}` });
    try {
      expect(await late.healthy()).toBe(true);
      const hubGet = (urlPath: string) => hubRequest(late, urlPath);
      expect((await hubGet('/v2/library/busybox/manifests/latest')).status).toBe(200);
      const refused = await hubGet('/v2/library/alpine/manifests/latest');
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toContain(
        `error_description="Dockside's registry does not carry alpine, and its upstream 127.0.0.1:${frontPort} could not be reached (connection refused); it has: ${carried}"`,
      );
      // The upstream comes back: the supervisor's next restart of the cache (≤ 10 s) serves alpine.
      front = await startFront(frontPort);
      await expect
        .poll(async () => (await hubGet('/v2/library/alpine/manifests/latest')).status, {
          timeout: 20_000,
          interval: 500,
        })
        .toBe(200);
    } finally {
      await late.stop();
    }
  }, 60_000);
});

/** A GET to a registry's Docker Hub stand-in, as a sandbox's dockerd makes it. */
function hubRequest(
  reg: RegistrySupervisor,
  urlPath: string,
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        socketPath: reg.paths.hubSocket,
        path: urlPath,
        servername: 'registry-1.docker.io',
        headers: { host: 'registry-1.docker.io', accept: MANIFEST_V2 },
        ca: readFileSync(reg.paths.forwardCa),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
