// Typing first: a sandbox's terminals (their holders and all they run) live in a CPU group outside every
// sandbox's, dockside-terminals/<id>, weighted above dockside/ and bounded so that it lifts no limit: a
// CPU hog, a fork bomb and a memory hog in a real terminal are held there (v2) or by the sandbox's own
// limits (v1, where only cpu and cpuacct leave the sandbox's cgroups). Read from the host's cgroup files.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { CGROUP_V1, sandboxCgroupFile, sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { cgroupsOf, readCg, runInTerminal, terminalCgroupFile, terminalCpus, terminalPids } from '../support/terminals';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-prio-'));
const rt = new NativeRuntime(dataDir);
const ID = 'prio-a';
const RANGE = 231;
const MiB = 1024 ** 2;
const limits = { memoryBytes: 1024 * MiB, pids: 512, cpus: 1, diskBytes: 1024 * MiB };
// What cgroups.c gives a sandbox's terminals: half its cpus, a quarter of its memory, 256 pids; and all
// terminals together half the host's CPUs.
const TERMINAL_CPUS = 0.5;
const HOST_TERMINALS_CPUS = os.cpus().length / 2;

/** cpu.max (v2) or cfs quota/period (v1) of a terminals' group, in CPUs. */
function quotaCpus(id: string): number {
  if (!CGROUP_V1) {
    const [max, period] = readCg(terminalCgroupFile(id, 'cpu.max')).split(' ');
    return Number(max) / Number(period);
  }
  return (
    Number(readCg(terminalCgroupFile(id, 'cpu.cfs_quota_us'))) /
    Number(readCg(terminalCgroupFile(id, 'cpu.cfs_period_us')))
  );
}

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

describe.runIf(sandboxesAvailable())("the CPU group of a sandbox's terminals", () => {
  beforeAll(async () => {
    mkdirSync(path.join(dataDir, 'images'), { recursive: true });
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    await rt.create(ID, RANGE, limits);
    await rt.openSession(ID, 't-prio', ['sleep', '600'], { cols: 80, rows: 24 });
  }, 180_000);

  afterAll(async () => {
    await rt.destroy(ID).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('puts the terminal, and nothing of the engine, in dockside-terminals/<id>, above dockside/ in weight and bounded, and all sandboxes below the default weight', async () => {
    const weightFile = CGROUP_V1 ? 'cpu.shares' : 'cpu.weight';
    const weight = (file: string) => Number(readCg(file));
    const parentOfSandboxes = CGROUP_V1 ? '/sys/fs/cgroup/cpu/dockside' : '/sys/fs/cgroup/dockside';
    expect(weight(terminalCgroupFile('', weightFile))).toBe(CGROUP_V1 ? 10240 : 1000);
    // All sandboxes together below a default process or group (the server's), so the server wakes ahead of builds.
    expect(weight(`${parentOfSandboxes}/${weightFile}`)).toBe(CGROUP_V1 ? 256 : 25);
    expect(quotaCpus('')).toBe(HOST_TERMINALS_CPUS);
    expect(quotaCpus(ID)).toBe(TERMINAL_CPUS);
    if (!CGROUP_V1) {
      expect(Number(readCg(terminalCgroupFile(ID, 'memory.max')))).toBe(limits.memoryBytes / 4);
      expect(readCg(terminalCgroupFile(ID, 'pids.max'))).toBe('256');
    }

    // The holder and its program: cpu (and cpuacct) in the terminals' group; on v1 everything else the sandbox's.
    const [holder, program] = terminalPids(ID);
    expect(terminalPids(ID)).toHaveLength(2);
    for (const pid of [holder!, program!]) {
      const cg = cgroupsOf(pid);
      if (CGROUP_V1) {
        expect(cg.get('cpu')).toBe(`/dockside-terminals/${ID}`);
        expect(cg.get('cpuacct')).toBe(`/dockside-terminals/${ID}`);
        for (const c of ['memory', 'pids', 'cpuset', 'devices', 'freezer'])
          expect(cg.get(c)).toBe(`/dockside/${ID}/sandbox`);
      } else expect(cg.get('')).toBe(`/dockside-terminals/${ID}`);
    }
    // Inside, the sandbox sees where its terminal is, and that an exec'd command and the engine are not there.
    expect(await cpuCgroupInside('cat /proc/$(pgrep -x sleep)/cgroup')).toMatch(
      new RegExp(`^(/\\.\\.)+/dockside-terminals/${ID}$`),
    );
    expect(await cpuCgroupInside('cat /proc/self/cgroup')).not.toContain('terminals');
    expect(await cpuCgroupInside('cat /proc/$(pgrep -x dockerd)/cgroup')).not.toContain('terminals');
  });

  it("holds a CPU hog in a terminal to the terminal's quota", async () => {
    const t = await runInTerminal(
      rt,
      ID,
      't-hog',
      'read go; for i in 1 2 3 4; do yes >/dev/null & done; echo hogging; wait',
    );
    t.send('go');
    await t.waitFor('hogging');
    await new Promise((r) => setTimeout(r, 300));
    try {
      const used = await terminalCpus(ID, 2000);
      // Four hogs on two cores would take both; the quota leaves them half a CPU.
      expect(used).toBeGreaterThan(TERMINAL_CPUS * 0.5);
      expect(used).toBeLessThan(TERMINAL_CPUS * 1.1);
    } finally {
      await rt.exec(ID, ['pkill', '-x', 'yes']);
    }
    await t.exited;
  }, 60_000);

  it("holds a fork bomb in a terminal to the terminal's pids (v2) or the sandbox's (v1), and the engine goes on", async () => {
    // dash gives up at the first refused fork (bash would retry each for 15 s); then only builtins, no fork.
    const t = await runInTerminal(
      rt,
      ID,
      't-bomb',
      'read go; sh -c \'for i in $(seq 700); do sleep 20 & done\' 2>/tmp/bomb.err; read -r err </tmp/bomb.err; echo "bomb ended: $err"; read done',
    );
    t.send('go');
    try {
      expect(await t.waitFor('bomb ended:', 60_000)).toMatch(/bomb ended: .*Cannot fork/);
      if (CGROUP_V1) {
        expect(Number(readCg(sandboxCgroupFile(ID, ['pids', 'pids.current'], '')))).toBeLessThanOrEqual(limits.pids);
      } else {
        const pids = Number(readCg(terminalCgroupFile(ID, 'pids.current')));
        expect(pids).toBeLessThanOrEqual(256);
        expect(pids).toBeGreaterThan(200);
        // The sandbox's own pids never were at their limit: its engine answers meanwhile.
        expect(readCg(sandboxCgroupFile(ID, ['', ''], 'pids.events'))).toMatch(/^max 0$/m);
        const r = await rt.exec(ID, ['docker', 'info', '--format', '{{.ServerVersion}}'], { timeoutMs: 30_000 });
        expect(r.code).toBe(0);
      }
    } finally {
      // From the host: on v1 the sandbox itself cannot fork until they are gone.
      for (const pid of terminalPids(ID))
        try {
          if (readCg(`/proc/${pid}/cmdline`).startsWith('sleep\x0020')) process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    }
    t.send('done');
    await t.exited;
  }, 120_000);

  it("kills a memory hog in a terminal at the terminal's memory limit (v2) or the sandbox's (v1)", async () => {
    const events = (file: string) => Number(/^oom_kill (\d+)$/m.exec(readCg(file))?.[1] ?? 0);
    // v1 counts the kill where the victim lived (the delegated cgroup), v2 up the tree too.
    const sandboxOoms = () => events(sandboxCgroupFile(ID, ['memory', 'memory.oom_control'], 'memory.events', true));
    const before = sandboxOoms();
    // v2: past a quarter of the sandbox's memory; v1: past all of it.
    const mb = CGROUP_V1 ? 1500 : 600;
    const t = await runInTerminal(
      rt,
      ID,
      't-mem',
      `read go; head -c ${mb}m /dev/zero | tail >/dev/null; echo "status=$?"`,
    );
    t.send('go');
    expect(await t.waitFor('status=', 120_000)).toMatch(/status=137/);
    await t.exited;
    if (CGROUP_V1) expect(sandboxOoms()).toBeGreaterThan(before);
    else {
      expect(events(terminalCgroupFile(ID, 'memory.events'))).toBeGreaterThan(0);
      expect(sandboxOoms()).toBe(before);
    }
    const r = await rt.exec(ID, ['docker', 'info', '--format', '{{.ServerVersion}}'], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
  }, 180_000);

  it('removes dockside-terminals/<id> with the sandbox, leaving no terminal behind', async () => {
    await rt.destroy(ID);
    const parents = CGROUP_V1
      ? ['/sys/fs/cgroup/cpu/dockside-terminals', '/sys/fs/cgroup/cpuacct/dockside-terminals']
      : ['/sys/fs/cgroup/dockside-terminals'];
    for (const p of parents) expect(readdirSync(p)).not.toContain(ID);
    const inRange = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const uid = Number(/^Uid:\s+(\d+)/m.exec(readCg(`/proc/${p}/status`))![1]);
          return uid >= RANGE * 65536 && uid < (RANGE + 1) * 65536;
        } catch {
          return false;
        }
      });
    expect(inRange).toEqual([]);
  }, 60_000);
});
