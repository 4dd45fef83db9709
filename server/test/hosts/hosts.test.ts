// Dockside on the hosts people have: the runtime's checks in two VMs booted side by side, a pure
// cgroup v2 host (Debian 12, Ubuntu 22.04 and later, managed Kubernetes nodes) and a cgroup v1 host in
// systemd's hybrid layout (like the machines Dockside started on). `npm run test:hosts` runs it alone.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { boot, rootDisk, vmAvailable, type Boot, type Layout } from './vm';

// What guest.sh checks, in its order.
const CHECKS: [string, string][] = [
  ['layout', 'boots with its cgroup layout'],
  ['create', 'creates a sandbox whose engine answers'],
  ['docker-info', 'gives the engine memory, pids and cpu limits, with no warning about them in docker info'],
  ['container-memory-file', "shows a container run with --memory 64m its limit in the host's own file"],
  ['container-oom', 'kills a container that allocates 200 MB under --memory 64m'],
  ['container-pids', 'enforces --pids-limit in a container'],
  ['container-cpu', 'enforces --cpus in a container'],
  ['sandbox-oom', "kills a process at the sandbox's own memory limit, and the engine survives"],
  ['own-limits', 'refuses the sandbox root writing its own memory limit'],
  ['session', "holds a terminal in its terminals' cpu group outside dockside/, behind a socket only root made"],
  ['cpu-weights', 'weighs terminals above the default in CPU and all sandboxes below it; terminals capped'],
  ['terminal-limits', "gives the terminals' group memory and pids limits (v2) or keeps the sandbox's (v1)"],
  ['terminal-hog', "holds a CPU hog in a terminal to its group's quota"],
  ['terminal-escape', "lets no process into the terminals' group from inside, nor out of it but into its own (v1)"],
  ['terminal-memory', "kills a memory hog in a terminal at the terminal's limit (v2) or the sandbox's (v1)"],
  ['terminal-pids', "stops a fork bomb in a terminal at the terminal's pids (v2) or the sandbox's (v1)"],
  ['destroy', 'destroys the sandbox leaving no cgroup, mount, loop device, state or process'],
];

const NAMES: Record<Layout, string> = {
  v2: 'a pure cgroup v2 host (nsdelegate, the server in system.slice)',
  v1: "a cgroup v1 host in systemd's hybrid layout (cpu,cpuacct together)",
  'v2-nomem': 'a cgroup v2 host without a memory controller',
};

describe.runIf(sandboxesAvailable() && vmAvailable())('the runtime on the hosts people have, in qemu', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'dockside-vm-'));
  const boots = new Map<Layout, Boot>();

  beforeAll(async () => {
    const root = rootDisk(SHARED_DATA_DIR);
    // All at once: each VM is one emulated CPU; a boot with the checks takes 2 to 3 minutes (the v1 one
    // came to 5.5 on a busy CI host with the terminals' hog and fork-bomb checks), the host without a
    // memory controller well under one.
    for (const b of await Promise.all((['v2', 'v1', 'v2-nomem'] as const).map((l) => boot(root, l, work, 600_000))))
      boots.set(b.layout, b);
  }, 690_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const result = (layout: Layout, name: string) => {
    const b = boots.get(layout)!;
    const r = b.results.find((x) => x.name === name);
    expect(r, `no result for ${name}; the console ended with:\n${b.console.slice(-3000)}`).toBeDefined();
    expect(r!.ok, `${name}: ${r!.detail}`).toBe(true);
  };

  it('refuses, in one line and leaving nothing, a host whose cgroups have no memory controller', () => {
    result('v2-nomem', 'refuses');
    result('v2-nomem', 'refuses-cleanly');
  });

  for (const layout of ['v2', 'v1'] as const)
    describe(NAMES[layout], () => {
      for (const [name, title] of CHECKS) it(title, () => result(layout, name));

      it('finishes and powers off in time', () => {
        const b = boots.get(layout)!;
        expect(b.done, `the VM stopped early after ${b.seconds} s:\n${b.console.slice(-3000)}`).toBe(true);
      });
    });
});
