// Supervision of the docker-registry processes: restarts with a logged event, a clean stop, no orphan
// when the server itself is killed, and the build's warm path.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/paths';
import { registryAnswers } from '../../src/registry/probe';
import { RegistrySupervisor, type RegistryEvent } from '../../src/registry/supervisor';

const canRunRegistry = process.getuid?.() === 0 && existsSync('/usr/bin/docker-registry');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ds-sup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(canRunRegistry)('registry supervisor', () => {
  it('restarts an instance that dies, reports it, and stops everything with stop()', async () => {
    const events: RegistryEvent[] = [];
    const sup = new RegistrySupervisor(path.join(tmp, 'a'), { log: () => {} });
    sup.on('event', (e) => events.push(e));
    await sup.start();
    const pids = [sup.pid('push')!, sup.pid('mirror')!];
    process.kill(pids[0]!, 'SIGKILL');
    await expect
      .poll(() => events.some((e) => e.type === 'ready' && e.instance === 'push' && e.restarts === 1))
      .toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'exited', instance: 'push', pid: pids[0], signal: 'SIGKILL', restartInMs: 100 }),
    );
    expect(await sup.healthy()).toBe(true);
    const running = [sup.pid('push')!, sup.pid('mirror')!];
    await sup.stop();
    expect(running.filter(alive)).toEqual([]);
    expect(await registryAnswers(sup.paths.mirrorSocket)).toBe(false);
    expect(existsSync(sup.paths.lockFile)).toBe(false);
  });

  it('leaves no registry behind when the process that supervises it is killed', async () => {
    const dataDir = path.join(tmp, 'b');
    const script = path.join(tmp, 'serve.mts');
    writeFileSync(
      script,
      `import { RegistrySupervisor } from ${JSON.stringify(path.join(REPO_ROOT, 'server/src/registry/supervisor.ts'))};
       const s = await new RegistrySupervisor(${JSON.stringify(dataDir)}, { log: () => {} }).start();
       console.log(JSON.stringify([s.pid('push'), s.pid('mirror')]));
       setInterval(() => {}, 1 << 30);`,
    );
    // node + tsx's loader directly, so the pid we kill is the supervisor's own.
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pids = await new Promise<number[]>((resolve) =>
      child.stdout.once('data', (d) => resolve(JSON.parse(String(d)))),
    );
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    await expect.poll(() => pids.filter(alive), { timeout: 3_000 }).toEqual([]);
    // Its stale lock does not keep the next supervisor out.
    const next = await new RegistrySupervisor(dataDir, { log: () => {} }).start();
    expect(await next.healthy()).toBe(true);
    await next.stop();
  });
});
