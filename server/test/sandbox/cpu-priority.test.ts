// Typing first: inside a sandbox its terminals weigh more CPU than its engine and builds. Read from the
// host's own cgroup files, on v1 and v2.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { CGROUP_V1, sandboxCgroupFile, sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-prio-'));
const rt = new NativeRuntime(dataDir);
const ID = 'prio-a';
// A cgroup's weight at the default: cpu.shares 1024 on v1 (also what each nice-0 task weighs), cpu.weight 100.
const DEFAULT = CGROUP_V1 ? 1024 : 100;
const weightFile = CGROUP_V1 ? 'cpu.shares' : 'cpu.weight';
const weight = (file: string) => Number(readFileSync(file, 'utf8'));

/** The cpu cgroup of a process as the sandbox itself sees it (relative to its cgroup namespace). */
async function cpuCgroupInside(script: string): Promise<string> {
  const r = await rt.exec(ID, ['sh', '-c', script], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  const lines = r.stdout.toString('utf8').trim().split('\n');
  const line = CGROUP_V1
    ? lines.find((l) => /^\d+:([^:]*,)?cpu(,[^:]*)?:/.test(l))
    : lines.find((l) => l.startsWith('0::'));
  return line!.split(':')[2]!;
}

describe.runIf(sandboxesAvailable())('CPU priority of terminals', () => {
  beforeAll(async () => {
    mkdirSync(path.join(dataDir, 'images'), { recursive: true });
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    await rt.create(ID, 231, { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 1024 ** 3 });
    await rt.openSession(ID, 't-prio', ['sleep', '600'], { cols: 80, rows: 24 });
  }, 180_000);

  afterAll(async () => {
    await rt.destroy(ID).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("weighs a sandbox's terminal above its engine, and keeps commands run in it (builds) with the engine", async () => {
    const terminals = weight(
      sandboxCgroupFile(ID, ['cpu', `terminals/${weightFile}`], `terminals/${weightFile}`, true),
    );
    // v2: the engine lives in init/; v1: in the delegated cgroup itself, each of its tasks at the default.
    const engine = CGROUP_V1 ? DEFAULT : weight(sandboxCgroupFile(ID, ['cpu', 'x'], 'init/cpu.weight', true));
    expect(terminals).toBeGreaterThan(engine);
    // The terminal's program (sleep, started by its holder) is in terminals/; an exec'd command is not.
    expect(await cpuCgroupInside('cat /proc/$(pgrep -x sleep)/cgroup')).toBe('/terminals');
    expect(await cpuCgroupInside('cat /proc/self/cgroup')).not.toContain('terminals');
    expect(await cpuCgroupInside('cat /proc/$(pgrep -x dockerd)/cgroup')).not.toContain('terminals');
  });
});
