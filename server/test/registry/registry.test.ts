// The local registry as the sandboxes' Docker Hub. First over its own sockets (the registry HTTP API, the
// read-only mirror, the Docker Hub stand-in, supervision), then from real sandboxes: real pulls of the
// lesson images, shared base layers, Docker's own error for a missing repository, a registry that comes
// back after being killed, two sandboxes pulling at once.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { buildLessonImages, loadRecipes } from '../../src/images/build';
import { startLessonRegistry } from '../../src/images/lessonRegistry';
import { MANIFEST_V2 } from '../../src/images/registryClient';
import { registryAnswers } from '../../src/registry/probe';
import { RegistryBusyError, RegistrySupervisor, type RegistryEvent } from '../../src/registry/supervisor';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const canRunRegistry = process.getuid?.() === 0 && existsSync('/usr/bin/docker-registry');
// Short: unix socket paths must stay under 108 bytes.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ds-reg-'));
const cacheDir = path.join(SHARED_DATA_DIR, 'images', 'lessons');
let registry: RegistrySupervisor;
const events: RegistryEvent[] = [];

type Reply = { status: number; headers: IncomingHttpHeaders; body: string };

function http(
  socketPath: string,
  method: string,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path: urlPath, headers: { host: 'localhost', ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request to the Docker Hub stand-in as a sandbox's dockerd makes it: TLS for registry-1.docker.io. */
function hub(urlPath: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        socketPath: registry.paths.hubSocket,
        path: urlPath,
        servername: 'registry-1.docker.io',
        headers: { host: 'registry-1.docker.io', accept: MANIFEST_V2 },
        ca: readFileSync(registry.paths.forwardCa),
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  if (!canRunRegistry) return;
  // The lesson images `npm start` built are reused from the shared cache; this registry is our own.
  ({ registry } = await startLessonRegistry({ dataDir, cacheDir }));
  registry.on('event', (e) => events.push(e));
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.runIf(canRunRegistry)('the registry on its sockets', () => {
  it('serves every lesson image under its Docker Hub name, with history and config', async () => {
    const catalog = JSON.parse((await http(registry.paths.mirrorSocket, 'GET', '/v2/_catalog')).body) as {
      repositories: string[];
    };
    for (const r of loadRecipes().values()) {
      expect(catalog.repositories).toContain(`library/${r.repository}`);
      const tags = JSON.parse(
        (await http(registry.paths.mirrorSocket, 'GET', `/v2/library/${r.repository}/tags/list`)).body,
      );
      expect(tags.tags).toEqual(expect.arrayContaining(r.tags));
    }
    const manifest = JSON.parse(
      (await http(registry.paths.mirrorSocket, 'GET', '/v2/library/nginx/manifests/latest', { accept: MANIFEST_V2 }))
        .body,
    );
    expect(manifest.mediaType).toBe(MANIFEST_V2);
    expect(manifest.layers).toHaveLength(2);
    const config = JSON.parse(
      (await http(registry.paths.mirrorSocket, 'GET', `/v2/library/nginx/blobs/${manifest.config.digest}`)).body,
    );
    expect(config.config.Cmd).toEqual(['nginx', '-g', 'daemon off;']);
    expect(config.config.ExposedPorts).toEqual({ '80/tcp': {} });
    expect(config.rootfs.diff_ids).toHaveLength(2);
    // Every history entry that is not empty_layer pairs with one layer, as Docker expects.
    expect(config.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer)).toHaveLength(2);
    expect(config.history.at(-1).created_by).toBe('/bin/sh -c #(nop)  CMD ["nginx" "-g" "daemon off;"]');
  });

  it('lends sandboxes a read-only mirror: pushes get 405, and only the mirror and hub sockets are shared', async () => {
    const push = await http(registry.paths.mirrorSocket, 'POST', '/v2/library/busybox/blobs/uploads/');
    expect(push.status).toBe(405);
    expect((await http(registry.paths.pushSocket, 'POST', '/v2/library/scratch-test/blobs/uploads/')).status).toBe(202);
    expect(statSync(registry.paths.mirrorSocket).mode & 0o777).toBe(0o666);
    expect(statSync(registry.paths.hubSocket).mode & 0o777).toBe(0o666);
    expect(statSync(registry.paths.runDir).mode & 0o777).toBe(0o700);
    expect(statSync(registry.paths.forwardCa).mode & 0o777).toBe(0o644);
  });

  it('answers as Docker Hub for what it lacks: unknown repository denied, unknown tag not found', async () => {
    const missing = await hub('/v2/does-not-exist/manifests/latest');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toContain('error="insufficient_scope"');
    const tag = await hub('/v2/library/nginx/manifests/no-such-tag');
    expect(tag.status).toBe(404);
    expect(tag.body).toContain('MANIFEST_UNKNOWN');
    const upload = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        {
          socketPath: registry.paths.hubSocket,
          method: 'POST',
          path: '/v2/learner/app/blobs/uploads/',
          servername: 'registry-1.docker.io',
          ca: readFileSync(registry.paths.forwardCa),
        },
        (res) => resolve(res.resume().statusCode ?? 0),
      );
      req.on('error', reject);
      req.end();
    });
    expect(upload).toBe(401);
    const found = await hub('/v2/library/hello-world/manifests/latest');
    expect(found.status).toBe(200);
    expect(found.headers['docker-content-digest']).toMatch(/^sha256:/);
  });

  it('rebuilds nothing when warm, well under 5 s, and fills a wiped registry again', async () => {
    const started = Date.now();
    const warm = await buildLessonImages({ dataDir, cacheDir, log: () => {} });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(warm.filter((i) => i.built || i.pushedBytes > 0)).toEqual([]);
    rmSync(registry.paths.storage, { recursive: true, force: true });
    const again = await buildLessonImages({ dataDir, cacheDir, log: () => {} });
    expect(again.map((i) => i.digest)).toEqual(warm.map((i) => i.digest));
    expect(again.every((i) => !i.built && i.pushedBytes > 0)).toBe(true);
    // The shared base layer went up once; the other images mounted it.
    const total = again.reduce((n, i) => n + i.pushedBytes, 0);
    const layerBytes = (
      await Promise.all(
        again.map(async (i) => {
          const [repo, tag] = i.reference.split(':');
          const m = JSON.parse(
            (
              await http(registry.paths.mirrorSocket, 'GET', `/v2/library/${repo}/manifests/${tag}`, {
                accept: MANIFEST_V2,
              })
            ).body,
          ) as { layers: { digest: string; size: number }[] };
          return m.layers;
        }),
      )
    ).flat();
    const unique = new Map(layerBytes.map((l) => [l.digest, l.size]));
    expect(total).toBeLessThan([...unique.values()].reduce((n, v) => n + v, 0) + 64 * 1024);
  });

  it('refuses a second supervisor on the same data dir', async () => {
    await expect(new RegistrySupervisor(dataDir, { log: () => {} }).start()).rejects.toBeInstanceOf(RegistryBusyError);
    expect(await registry.healthy()).toBe(true);
  });
});

describe.runIf(canRunRegistry && sandboxesAvailable())('lesson images in sandboxes', () => {
  const rt = new NativeRuntime(dataDir);
  // Sandbox ids name host cgroups and ranges name host uids: unique per run, so two runs never meet.
  const A = `reg-a-${process.pid}`;
  const B = `reg-b-${process.pid}`;
  const range = 9000 + (process.pid % 1000) * 2;
  const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 8 * 1024 ** 3 };

  async function sh(id: string, script: string): Promise<string> {
    const r = await rt.exec(id, ['sh', '-c', script], { timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`exit ${r.code} in ${id}: ${script}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.toString();
  }

  beforeAll(async () => {
    mkdirSync(path.join(dataDir, 'images'), { recursive: true });
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    await Promise.all([rt.create(A, range, limits), rt.create(B, range + 1, limits)]);
  }, 120_000);

  afterAll(async () => {
    for (const s of await rt.list()) await rt.destroy(s.id).catch(() => {});
  });

  it('runs hello-world with a real pull, layer by layer, in English and Korean', async () => {
    const out = await sh(A, 'docker run hello-world 2>&1');
    expect(out).toContain("Unable to find image 'hello-world:latest' locally");
    expect(out).toContain('latest: Pulling from library/hello-world');
    expect(out).toMatch(/[0-9a-f]{12}: Pull complete/);
    expect(out).toMatch(/Digest: sha256:[0-9a-f]{64}/);
    expect(out).toContain('Status: Downloaded newer image for hello-world:latest');
    expect(out).toContain('Hello from Docker!');
    expect(out).toContain('The Docker daemon pulled the "hello-world" image');
    const ko = await sh(A, 'docker run --rm -e LANG=ko_KR.UTF-8 hello-world');
    expect(ko).toContain('Docker가 인사합니다');
    expect(ko).not.toContain('Unable to find image');
  });

  it('pulls nginx and serves its default page on a published port through connect', async () => {
    expect(await sh(A, 'docker pull nginx 2>&1')).toContain('Status: Downloaded newer image for nginx:latest');
    await sh(A, 'docker run -d --name web -p 8080:80 nginx >/dev/null');
    await sh(
      A,
      'for i in $(seq 1 50); do curl -fs http://127.0.0.1:8080/ >/dev/null && exit 0; sleep 0.2; done; exit 1',
    );
    const conn = await rt.connect(A, 8080);
    const page = await new Promise<string>((resolve, reject) => {
      let text = '';
      conn.on('data', (d: Buffer) => (text += d));
      conn.on('end', () => resolve(text));
      conn.on('error', reject);
      conn.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
    });
    expect(page).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(page).toContain('Welcome to nginx!');
    // Logs go to the container's stdout, as with the real image.
    expect(await sh(A, 'docker logs web 2>&1')).toMatch(/"GET \/ HTTP\/1\.[01]" 200/);
  });

  it('lists the pulled images with sizes, and images on the same base share its layer', async () => {
    await sh(A, 'docker pull -q python:3-slim >/dev/null && docker pull -q debian:bookworm-slim >/dev/null');
    const images = await sh(A, 'docker images --format "{{.Repository}}:{{.Tag}} {{.Size}}"');
    expect(images).toMatch(/^nginx:latest \d+(\.\d+)?MB$/m);
    expect(images).toMatch(/^python:3-slim \d+(\.\d+)?MB$/m);
    expect(images).toMatch(/^hello-world:latest \d+(\.\d+)?kB$/m);
    const layers = async (image: string) =>
      JSON.parse(await sh(A, `docker image inspect --format '{{json .RootFS.Layers}}' ${image}`)) as string[];
    const [nginx, python, debian] = await Promise.all([
      layers('nginx'),
      layers('python:3-slim'),
      layers('debian:bookworm-slim'),
    ]);
    expect(nginx[0]).toBe(python[0]);
    expect(nginx[0]).toBe(debian[0]);
    expect(nginx[1]).not.toBe(python[1]);
    const history = await sh(A, 'docker history --no-trunc --format "{{.CreatedBy}}" nginx');
    expect(history).toMatch(/apt-get install -y --no-install-recommends nginx-light/);
    expect(history).toMatch(/CMD \["nginx" "-g" "daemon off;"\]/);
    // The Dockerfile exercises build on these.
    expect(await sh(A, 'docker run --rm python:3-slim python3 -c "import json; print(json.dumps(6*7))"')).toBe('42\n');
  });

  it("gives Docker's own message for a repository that does not exist, quickly", async () => {
    const started = Date.now();
    const r = await rt.exec(B, ['docker', 'pull', 'does-not-exist']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "Error response from daemon: pull access denied for does-not-exist, repository does not exist or may require 'docker login': denied: Dockside's registry does not carry does-not-exist; it has: busybox, debian, hello-world,",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    const tag = await rt.exec(B, ['docker', 'pull', 'nginx:no-such-tag']);
    expect(tag.stderr).toContain('manifest for nginx:no-such-tag not found: manifest unknown');
  });

  it('finds the lesson images with docker search', async () => {
    const out = await sh(B, 'docker search nginx');
    // Docker 25 and later print no AUTOMATED column (Docker Hub dropped automated builds).
    expect(out).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL(\s+AUTOMATED)?$/m);
    expect(out).toMatch(/^nginx\s+.*\[OK\]/m);
  });

  it('refuses pushes from a sandbox, so nobody can change the images everyone pulls', async () => {
    await sh(B, 'docker pull -q busybox >/dev/null && docker tag busybox 127.0.0.1:5000/library/busybox:evil');
    const push = await rt.exec(B, ['docker', 'push', '127.0.0.1:5000/library/busybox:evil']);
    expect(push.code).not.toBe(0);
    expect(push.stderr + push.stdout.toString()).toMatch(/405|unsupported|denied|not allowed/i);
    // Pushing to "Docker Hub" reads as it does for someone not logged in.
    const hubPush = await rt.exec(B, ['sh', '-c', 'docker tag busybox learner/app && docker push learner/app']);
    expect(hubPush.code).not.toBe(0);
    expect(hubPush.stderr).toContain('denied: requested access to the resource is denied');
    expect((await http(registry.paths.mirrorSocket, 'GET', '/v2/library/busybox/tags/list')).body).not.toContain(
      'evil',
    );
  });

  it('serves two sandboxes pulling the same image at once', async () => {
    const [a, b] = await Promise.all([sh(A, 'docker pull node:slim 2>&1'), sh(B, 'docker pull node:slim 2>&1')]);
    for (const out of [a, b]) {
      expect(out).toMatch(/[0-9a-f]{12}: Pull complete/);
      expect(out).toContain('Status: Downloaded newer image for node:slim');
    }
    expect(await sh(B, 'docker run --rm node:slim node -e "console.log(6*7)"')).toBe('42\n');
  });

  it('comes back after the registry process is killed, and the next pull works', async () => {
    const before = registry.pid('mirror')!;
    process.kill(before, 'SIGKILL');
    await expect.poll(() => events.some((e) => e.type === 'exited' && e.pid === before), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => registryAnswers(registry.paths.mirrorSocket), { timeout: 10_000 }).toBe(true);
    expect(registry.pid('mirror')).not.toBe(before);
    // The socket can answer a moment before the supervisor's own readiness probe reports it.
    await expect
      .poll(() => events.some((e) => e.type === 'ready' && e.instance === 'mirror' && e.restarts > 0), {
        timeout: 5_000,
      })
      .toBe(true);
    expect(await sh(B, 'docker pull python:3 2>&1')).toContain('Status: Downloaded newer image for python:3');
  });
});
