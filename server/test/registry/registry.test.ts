// The local registry as the sandboxes' Docker Hub: real pulls of the lesson images, shared base
// layers, Docker's own error for a missing repository, a registry that comes back after being killed.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { registryAnswers, RegistrySupervisor } from '../../src/registry/supervisor';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-registry-'));
const rt = new NativeRuntime(dataDir);
const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 8 * 1024 ** 3 };
let registry: RegistrySupervisor;

async function sh(id: string, script: string): Promise<string> {
  const r = await rt.exec(id, ['sh', '-c', script], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code} in ${id}: ${script}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.toString();
}

describe.runIf(sandboxesAvailable())('registry and lesson images', () => {
  beforeAll(async () => {
    // The images `npm start` built live in the shared data dir; these sandboxes borrow them.
    mkdirSync(path.join(dataDir, 'images'));
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    symlinkSync(path.join(SHARED_DATA_DIR, 'registry'), path.join(dataDir, 'registry'));
    registry = new RegistrySupervisor(SHARED_DATA_DIR, () => {});
    await registry.start();
    await Promise.all([rt.create('reg-a', 401, limits), rt.create('reg-b', 402, limits)]);
  }, 120_000);

  afterAll(async () => {
    for (const s of await rt.list()) await rt.destroy(s.id).catch(() => {});
    await registry?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs hello-world with a real pull, layer by layer', async () => {
    const out = await sh('reg-a', 'docker run hello-world 2>&1');
    expect(out).toContain("Unable to find image 'hello-world:latest' locally");
    expect(out).toContain('latest: Pulling from library/hello-world');
    expect(out).toMatch(/[0-9a-f]{12}: Pull complete/);
    expect(out).toMatch(/Digest: sha256:[0-9a-f]{64}/);
    expect(out).toContain('Hello from Docker!');
    expect(out).toContain('The Docker daemon pulled the "hello-world" image');
    const ko = await sh('reg-a', 'docker run --rm -e LANG=ko_KR.UTF-8 hello-world');
    expect(ko).toContain('Docker가 인사합니다');
  });

  it('pulls nginx and serves its default page on a published port', async () => {
    expect(await sh('reg-a', 'docker pull nginx 2>&1')).toContain('Status: Downloaded newer image for nginx:latest');
    await sh('reg-a', 'docker run -d --name web -p 8080:80 nginx >/dev/null');
    await sh(
      'reg-a',
      'for i in $(seq 1 50); do curl -fs http://127.0.0.1:8080/ >/dev/null && exit 0; sleep 0.2; done; exit 1',
    );
    const conn = await rt.connect('reg-a', 8080);
    const page = await new Promise<string>((resolve, reject) => {
      let text = '';
      conn.on('data', (d: Buffer) => (text += d));
      conn.on('end', () => resolve(text));
      conn.on('error', reject);
      conn.end('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
    });
    expect(page).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(page).toContain('Welcome to nginx!');
  });

  it('lists the pulled images with sizes, and images on the same base share its layer', async () => {
    await sh('reg-a', 'docker pull -q python:3-slim >/dev/null && docker pull -q debian:bookworm-slim >/dev/null');
    const images = await sh('reg-a', 'docker images --format "{{.Repository}}:{{.Tag}} {{.Size}}"');
    expect(images).toMatch(/^nginx:latest \d+(\.\d+)?MB$/m);
    expect(images).toMatch(/^hello-world:latest \d+(\.\d+)?kB$/m);
    const layers = async (image: string) =>
      JSON.parse(await sh('reg-a', `docker image inspect --format '{{json .RootFS.Layers}}' ${image}`)) as string[];
    const [nginx, python, debian] = await Promise.all([
      layers('nginx'),
      layers('python:3-slim'),
      layers('debian:bookworm-slim'),
    ]);
    expect(nginx[0]).toBe(python[0]);
    expect(nginx[0]).toBe(debian[0]);
    expect(nginx[1]).not.toBe(python[1]);
    const history = await sh('reg-a', 'docker history --no-trunc --format "{{.CreatedBy}}" nginx');
    expect(history).toMatch(/apt-get install -y --no-install-recommends nginx-light/);
    expect(history).toMatch(/CMD \["nginx" "-g" "daemon off;"\]/);
  });

  it("gives Docker's own message for a repository that does not exist, quickly", async () => {
    const started = Date.now();
    const r = await rt.exec('reg-b', ['docker', 'pull', 'does-not-exist']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "Error response from daemon: pull access denied for does-not-exist, repository does not exist or may require 'docker login'",
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    const tag = await rt.exec('reg-b', ['docker', 'pull', 'hello-world:nope']);
    expect(tag.stderr).toContain(
      'Error response from daemon: manifest for hello-world:nope not found: manifest unknown',
    );
  });

  it('refuses pushes from a sandbox, so nobody can change the images everyone pulls', async () => {
    await sh('reg-b', 'docker pull -q busybox >/dev/null && docker tag busybox 127.0.0.1:5000/library/busybox:evil');
    const push = await rt.exec('reg-b', ['docker', 'push', '127.0.0.1:5000/library/busybox:evil']);
    expect(push.code).not.toBe(0);
    expect(push.stderr + push.stdout.toString()).toMatch(/405|unsupported|denied|not allowed/i);
  });

  it('comes back after the registry process is killed, and the next pull works', async () => {
    const before = registry.pid('mirror')!;
    process.kill(before, 'SIGKILL');
    await expect.poll(() => registry.pid('mirror') !== before, { timeout: 10_000 }).toBe(true);
    await expect.poll(() => registryAnswers(registry.paths.mirrorSocket), { timeout: 10_000 }).toBe(true);
    expect(await sh('reg-b', 'docker pull node:slim 2>&1')).toContain('Status: Downloaded newer image for node:slim');
  });

  it('serves two sandboxes pulling the same image at once', async () => {
    const [a, b] = await Promise.all([
      sh('reg-a', 'docker pull python:3 2>&1'),
      sh('reg-b', 'docker pull python:3 2>&1'),
    ]);
    for (const out of [a, b]) expect(out).toMatch(/Status: (Downloaded newer image|Image is up to date) for python:3/);
    expect(await sh('reg-b', 'docker run --rm python:3 python3 -c "print(6*7)"')).toBe('42\n');
  });
});
