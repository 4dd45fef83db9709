// The Docker a learner meets at work, inside a real sandbox: Docker Engine 26, `docker build` through
// BuildKit (numbered steps, `CACHED`, `# buildkit` history), buildx, and `docker compose` bringing up two
// services from the local registry's images that reach each other by service name.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { startLessonRegistry } from '../../src/images/lessonRegistry';
import type { RegistrySupervisor } from '../../src/registry/supervisor';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const canRun = sandboxesAvailable() && existsSync('/usr/bin/docker-registry');
// Short: unix socket paths must stay under 108 bytes.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ds-d26-'));
const rt = new NativeRuntime(dataDir);
// Sandbox ids name host cgroups and ranges name host uids: unique per run, so two runs never meet.
const ID = `d26-${process.pid}`;
const range = 12000 + (process.pid % 1000) * 2;
let registry: RegistrySupervisor | undefined;

/** Runs a shell script in the sandbox; its output (stdout and stderr), failing the test on a non-zero exit. */
async function sh(script: string): Promise<string> {
  const r = await rt.exec(ID, ['sh', '-c', `exec 2>&1\n${script}`], { timeoutMs: 180_000 });
  const out = r.stdout.toString('utf8');
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${script}\n${out}\n${r.stderr}`);
  return out;
}

describe.runIf(canRun)('Docker 26 with BuildKit and Compose in a sandbox', () => {
  beforeAll(async () => {
    ({ registry } = await startLessonRegistry({
      dataDir,
      cacheDir: path.join(SHARED_DATA_DIR, 'images', 'lessons'),
    }));
    mkdirSync(path.join(dataDir, 'images'), { recursive: true });
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    await rt.create(ID, range, { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 4 * 1024 ** 3 });
  }, 600_000);

  afterAll(async () => {
    await rt.destroy(ID).catch(() => {});
    await registry?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers as Docker Engine 26, with the buildx and compose plugins', async () => {
    expect(await sh("docker version --format '{{.Server.Version}}'")).toMatch(/^26\.\d+\.\d+/);
    expect(await sh('docker buildx version')).toMatch(/github\.com\/docker\/buildx v?0\.\d+/);
    expect(await sh('docker compose version')).toMatch(/Docker Compose version v?2\.\d+/);
  });

  it('builds through BuildKit: numbered steps, CACHED on a rebuild, # buildkit in the history', async () => {
    await sh(
      'mkdir -p /workspace/bk && cd /workspace/bk && echo hello > greeting.txt && ' +
        `printf 'FROM busybox\\nWORKDIR /app\\nCOPY greeting.txt .\\nRUN wc -c greeting.txt > size.txt\\nCMD ["cat", "size.txt"]\\n' > Dockerfile`,
    );
    const first = await sh('cd /workspace/bk && docker build -t bk .');
    expect(first).toContain('[1/4] FROM docker.io/library/busybox');
    expect(first).toContain('[3/4] COPY greeting.txt .');
    expect(first).toContain('[4/4] RUN wc -c greeting.txt > size.txt');
    expect(first).not.toContain('DEPRECATED');
    expect(await sh('docker run --rm bk')).toContain('6 greeting.txt');

    const again = await sh('cd /workspace/bk && docker build -t bk:2 .');
    expect(again).toContain('[4/4] RUN wc -c greeting.txt > size.txt');
    expect(again.match(/CACHED/g)).toHaveLength(3);

    const history = await sh("docker history --no-trunc --format '{{.CreatedBy}}' bk");
    expect(history).toContain('COPY greeting.txt . # buildkit');
    expect(history).toContain('RUN /bin/sh -c wc -c greeting.txt > size.txt # buildkit');
    expect(history).toContain('WORKDIR /app');
    expect(history).not.toMatch(/COPY file:/);
  });

  it('brings up two services with docker compose; one reaches the other by its service name', async () => {
    await sh(
      'mkdir -p /workspace/two && cd /workspace/two && cat > compose.yaml <<EOF\n' +
        'services:\n' +
        '  web:\n' +
        '    image: nginx\n' +
        '  probe:\n' +
        '    image: busybox\n' +
        '    command: ["sleep", "3600"]\n' +
        '    depends_on: [web]\n' +
        'EOF',
    );
    const up = await sh('cd /workspace/two && docker compose up -d');
    expect(up).toMatch(/Container two-web-1\s+Started/);
    expect(up).toMatch(/Container two-probe-1\s+Started/);
    const ps = await sh("cd /workspace/two && docker compose ps --format '{{.Service}} {{.State}}'");
    expect(ps.split('\n').sort().filter(Boolean)).toEqual(['probe running', 'web running']);
    const page = await sh(
      'cd /workspace/two && for i in $(seq 1 50); do ' +
        'docker compose exec -T probe wget -qO- http://web/ && exit 0; sleep 0.2; done; exit 1',
    );
    expect(page).toContain('<title>Welcome to nginx!</title>');

    const down = await sh('cd /workspace/two && docker compose down');
    expect(down).toMatch(/Network two_default\s+Removed/);
    expect(await sh("docker ps -a --format '{{.Names}}'")).not.toMatch(/two-/);
  });
});
