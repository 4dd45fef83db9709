// Every check kind, passing and failing on a real sandbox's engine, with the hint a learner would see;
// and checks that re-run by themselves when the engine changes.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../../src/db/client';
import type { ChecksResult } from '@dockside/protocol';
import { CheckRunner } from '../../src/engine/checkRunner';
import { evaluate, type CheckContext, type CheckSpec } from '../../src/engine/checks';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { ProgressStore } from '../../src/engine/progress';
import { busyboxTar } from '../support/images';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-checks-'));
const rt = new NativeRuntime(dataDir);
const ID = 'checks-a';
let ctx: CheckContext;
let db: Db;

async function sh(script: string, stdin?: Buffer): Promise<string> {
  const r = await rt.exec(ID, ['sh', '-c', script], { stdin, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${script}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.toString();
}

const check = (spec: CheckSpec) => evaluate(spec, ctx);

describe.runIf(sandboxesAvailable())('checks on a real engine', () => {
  beforeAll(async () => {
    mkdirSync(path.join(dataDir, 'images'));
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    await rt.create(ID, 301, { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 4 * 1024 ** 3 });
    await sh('docker import - bb >/dev/null', busyboxTar());
    await sh(
      'mkdir -p /tmp/other && echo x > /tmp/other/file && tar -C /tmp/other -c . | docker import - unrelated >/dev/null',
    );
    await sh(
      `mkdir -p /tmp/b && cd /tmp/b && printf 'FROM bb\\nRUN echo one > /one\\nRUN echo two > /two\\nRUN echo three > /three\\n' > Dockerfile && docker build -q -t layered . >/dev/null`,
    );
    await sh('docker run -d --name web -p 8080:80 bb httpd -f -p 80 -h /www >/dev/null');
    await sh('docker run --name changer bb sh -c "echo x > /tmp/new-file"');
    await sh('printf "FROM bb\\nCMD [\\"sh\\"]\\n" > /workspace/Dockerfile');
    ctx = { sandboxId: ID, runtime: rt, docker: new Docker({ socketPath: rt.dockerSocket(ID) }), commands: [] };
    const database = { provider: 'sqlite' as const, url: `file:${path.join(dataDir, 'db.sqlite')}` };
    await migrate(database);
    db = createDb(database);
  }, 180_000);

  afterAll(async () => {
    await db?.$disconnect();
    await rt.destroy(ID).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('imageExists', async () => {
    expect(await check({ kind: 'imageExists', image: 'bb' })).toEqual({ passed: true });
    expect(await check({ kind: 'imageExists', image: 'myapp' })).toEqual({
      passed: false,
      hint: { en: 'There is no image `myapp` yet.', ko: '아직 `myapp` 이미지가 없습니다.' },
    });
  });

  it('imageLayerCount', async () => {
    expect(await check({ kind: 'imageLayerCount', image: 'layered', min: 3 })).toEqual({ passed: true });
    expect((await check({ kind: 'imageLayerCount', image: 'layered', min: 5 })).hint?.en).toBe(
      'Image `layered` has 4 layers; this step asks for at least 5.',
    );
    expect((await check({ kind: 'imageLayerCount', image: 'layered', max: 2 })).hint?.en).toMatch(/at most 2/);
  });

  it('imageHistoryHas', async () => {
    expect(await check({ kind: 'imageHistoryHas', image: 'layered', pattern: 'echo three' })).toEqual({ passed: true });
    expect((await check({ kind: 'imageHistoryHas', image: 'layered', pattern: 'apt-get' })).hint?.en).toMatch(
      /No step in the history of `layered` matches `apt-get`/,
    );
  });

  it('imagesShareLayer', async () => {
    expect(await check({ kind: 'imagesShareLayer', images: ['layered', 'bb'] })).toEqual({ passed: true });
    expect((await check({ kind: 'imagesShareLayer', images: ['bb', 'unrelated'] })).hint?.en).toBe(
      '`bb` and `unrelated` share no layer.',
    );
  });

  it('containerRunning and containerExited', async () => {
    expect(await check({ kind: 'containerRunning', name: 'web' })).toEqual({ passed: true });
    expect(await check({ kind: 'containerRunning', image: 'bb' })).toEqual({ passed: true });
    expect((await check({ kind: 'containerRunning', name: 'changer' })).hint?.en).toMatch(/is exited, not running/);
    expect((await check({ kind: 'containerRunning', name: 'ghost' })).hint?.en).toMatch(/no container named `ghost`/);
    expect(await check({ kind: 'containerExited', name: 'changer' })).toEqual({ passed: true });
    expect((await check({ kind: 'containerExited', name: 'web' })).passed).toBe(false);
  });

  it('containerPublishes', async () => {
    expect(await check({ kind: 'containerPublishes', port: 8080 })).toEqual({ passed: true });
    expect((await check({ kind: 'containerPublishes', port: 9090 })).hint?.en).toMatch(/publishes port 9090/);
  });

  it('containerDiffHas', async () => {
    expect(await check({ kind: 'containerDiffHas', name: 'changer', path: '/tmp/new-file', change: 'A' })).toEqual({
      passed: true,
    });
    expect(
      (await check({ kind: 'containerDiffHas', name: 'changer', path: '/tmp/new-file', change: 'D' })).hint?.en,
    ).toMatch(/does not show `\/tmp\/new-file` as deleted/);
  });

  it('fileInWorkspace', async () => {
    expect(await check({ kind: 'fileInWorkspace', path: 'Dockerfile', pattern: '^FROM bb' })).toEqual({ passed: true });
    expect((await check({ kind: 'fileInWorkspace', path: 'Dockerfile', pattern: '^RUN' })).passed).toBe(false);
    expect((await check({ kind: 'fileInWorkspace', path: 'app.py' })).hint?.en).toBe(
      '`/workspace/app.py` does not exist yet.',
    );
  });

  it('commandRun', async () => {
    const withCommands = { ...ctx, commands: [{ commandLine: 'docker build -t myapp .', exitCode: 1 }] };
    expect(await evaluate({ kind: 'commandRun', pattern: '^docker build' }, withCommands)).toEqual({ passed: true });
    expect(
      (await evaluate({ kind: 'commandRun', pattern: '^docker build', exitCode: 0 }, withCommands)).hint?.en,
    ).toMatch(/ended with status 1/);
    expect((await evaluate({ kind: 'commandRun', pattern: '^docker push' }, withCommands)).passed).toBe(false);
  });

  it('shell', async () => {
    expect(await check({ kind: 'shell', script: 'test -f /workspace/Dockerfile' })).toEqual({ passed: true });
    expect(await check({ kind: 'shell', script: 'echo "FAIL: write a README first"; exit 1' })).toEqual({
      passed: false,
      hint: { en: 'write a README first', ko: 'write a README first' },
    });
    // A check message in both languages: the learner reading Korean gets the Korean line.
    expect(
      await check({
        kind: 'shell',
        script: "echo 'FAIL: Write a README first.'; echo 'FAIL ko: 먼저 README를 쓰세요.'; exit 1",
      }),
    ).toEqual({ passed: false, hint: { en: 'Write a README first.', ko: '먼저 README를 쓰세요.' } });
  });

  it('re-runs by itself when the engine changes, and stores the passed step', async () => {
    const results: ChecksResult[] = [];
    const progress = new ProgressStore(db);
    await db.learner.create({ data: { id: 'learner-checks' } });
    const runner = new CheckRunner(
      rt,
      progress,
      () => [{ id: 'live', spec: { kind: 'containerRunning', name: 'live' } }],
      (_l, r) => results.push(r),
    );
    try {
      runner.setFocus('learner-checks', ID, 'Lesson', 'step');
      await expect.poll(() => results.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(results.at(-1)).toMatchObject({ stepStatus: 'working', results: [{ id: 'live', status: 'failed' }] });
      await sh('docker run -d --name live bb sleep 600 >/dev/null');
      await expect.poll(() => results.at(-1)?.stepStatus, { timeout: 10_000 }).toBe('passed');
      expect(await progress.forLesson('learner-checks', 'Lesson')).toMatchObject({ step: { status: 'passed' } });
    } finally {
      runner.close();
    }
  });
});
