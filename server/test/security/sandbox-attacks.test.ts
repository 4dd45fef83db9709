// Attacks by root inside a real sandbox, through the real runtime, each done the way it was reproduced
// against the runtime before the boundary was sealed. Every test is named for the attack.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineSocket } from '../../src/engine/dockerClients';
import { WorkspaceFiles } from '../../src/engine/files';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { FILE_EXIT } from '../../src/engine/runtime';
import { busyboxTar } from '../support/images';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { cgroupsOf, readCg, runInTerminal, terminalCgroupFile, terminalPids } from '../support/terminals';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-attacks-'));
const rt = new NativeRuntime(dataDir);
const GiB = 1024 ** 3;
const limits = { memoryBytes: GiB, pids: 2048, cpus: 1, diskBytes: 2 * GiB };
const ATTACKER = 'atk-attacker';
const VICTIM = 'atk-victim-7f3a9c';
const v1 = (() => {
  try {
    return statSync('/sys/fs/cgroup/memory/memory.limit_in_bytes').isFile();
  } catch {
    return false;
  }
})();

async function sh(id: string, script: string, stdin?: Buffer): Promise<string> {
  const r = await rt.exec(id, ['bash', '-c', script], { stdin, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code} in ${id}: ${script}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.toString('utf8');
}

function cli(...args: string[]) {
  const env = { PATH: process.env.PATH, DOCKSIDE_DATA_DIR: dataDir } as unknown as NodeJS.ProcessEnv;
  return spawnSync(rt.bin, args, { env, encoding: 'utf8' });
}

const hostCg = (controller: string, file: string, id = ATTACKER) =>
  readFileSync(
    v1 ? `/sys/fs/cgroup/${controller}/dockside/${id}/${file}` : `/sys/fs/cgroup/dockside/${id}/${file}`,
    'utf8',
  );

describe.runIf(sandboxesAvailable())('attacks by root inside a sandbox', () => {
  beforeAll(async () => {
    mkdirSync(path.join(dataDir, 'images'), { recursive: true });
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    await Promise.all([rt.create(ATTACKER, 401, limits), rt.create(VICTIM, 402, limits)]);
    await sh(ATTACKER, 'docker import - bb:latest >/dev/null', busyboxTar());
    await sh(VICTIM, 'docker import - victim-secret:latest >/dev/null', busyboxTar());
  }, 180_000);

  afterAll(async () => {
    for (const s of await rt.list()) await rt.destroy(s.id).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reads the host's files through a directory descriptor the runtime's caller left open", async () => {
    // The caller holds the host's / and a pipe without close-on-exec, as the server's process did.
    const hostRoot = openSync('/', 'r');
    try {
      const env = { PATH: process.env.PATH, DOCKSIDE_DATA_DIR: dataDir } as unknown as NodeJS.ProcessEnv;
      const script = 'ls -l /proc/$$/fd; cat /proc/self/fd/3/etc/hostname 2>&1';
      const child = spawn(rt.bin, ['exec', ATTACKER, '--', 'sh', '-c', script], {
        env,
        stdio: ['pipe', 'pipe', 'pipe', hostRoot, 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stdin!.end();
      await new Promise((r) => child.on('close', r));
      const fds = [...out.matchAll(/ (\d+) -> /g)].map((m) => m[1]).sort();
      expect(fds).toEqual(['0', '1', '2']);
      expect(out).not.toContain(os.hostname());
    } finally {
      closeSync(hostRoot);
    }
  });

  it('raises its own memory, pids and cpu limits from inside', async () => {
    const writes = v1
      ? ['memory/memory.limit_in_bytes=8589934592', 'pids/pids.max=max', 'cpu/cpu.cfs_quota_us=-1']
      : ['memory.max=max', 'pids.max=max', 'cpu.max=max'];
    for (const w of writes) {
      const [file, value] = w.split('=');
      const r = await rt.exec(ATTACKER, ['sh', '-c', `echo ${value} > /sys/fs/cgroup/${file}`]);
      expect({ w, code: r.code }).toEqual({ w, code: 2 });
      expect(r.stderr).toMatch(/Permission denied/);
    }
    expect(Number(hostCg('memory', v1 ? 'memory.limit_in_bytes' : 'memory.max'))).toBe(GiB);
    expect(hostCg('pids', 'pids.max').trim()).toBe('2048');
    expect(hostCg('cpu', v1 ? 'cpu.cfs_quota_us' : 'cpu.max').trim()).toMatch(/^100000\b/);
    // A cgroup it makes below is its own to limit as it likes, and still within the sandbox's limit.
    const mem = v1 ? '/sys/fs/cgroup/memory' : '/sys/fs/cgroup';
    const out = await sh(
      ATTACKER,
      `mkdir -p ${mem}/escape && echo ${v1 ? 8589934592 : 'max'} > ${mem}/escape/${v1 ? 'memory.limit_in_bytes' : 'memory.max'} && echo $$ > ${mem}/escape/cgroup.procs && { head -c 1500m /dev/zero | tail > /dev/null; echo "status=$?"; }`,
    );
    expect(out).toContain('status=137');
  }, 120_000);

  it('writes past its --disk into its own root filesystem', async () => {
    await rt.create('atk-disk', 403, { ...limits, diskBytes: GiB });
    try {
      const r = await rt.exec('atk-disk', ['sh', '-c', 'dd if=/dev/zero of=/root/fill bs=1M count=1500'], {
        timeoutMs: 120_000,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/No space left on device/);
      const used = Number(
        execFileSync('du', ['-sx', '--block-size=1', path.join(dataDir, 'sandboxes', 'atk-disk')])
          .toString()
          .split('\t')[0],
      );
      expect(used).toBeLessThan(1.02 * GiB);
    } finally {
      await rt.destroy('atk-disk');
    }
  }, 180_000);

  it('asks for more disk than the host can hold', () => {
    const r = cli('create', 'atk-huge', '--range', '404', '--disk', '2000G');
    expect(r.status).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^dockside-sandbox: create: not enough disk for a sandbox of 2000\.0 GiB: .* GiB are free/,
    );
    expect(cli('inspect', 'atk-huge', '--json').status).toBe(3);
  });

  it("finds other sandboxes' ids and host paths in what it can read, even after removing the masks", async () => {
    const masked = await sh(
      ATTACKER,
      'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/kallsyms; do [ -e $f ] && printf "%s=%s " $f $(wc -c < $f); done; find /sys/firmware /sys/block -mindepth 1 | wc -l',
    );
    expect(masked).not.toMatch(/=[1-9]/);
    expect(masked.trim().split(' ').at(-1)).toBe('0');
    const seen = await sh(
      ATTACKER,
      [
        // Masks are the sandbox's own mounts (they must be, for the engine inside): remove them all.
        "for m in $(awk '$5 ~ /^\\/(proc|sys)\\// {print $5}' /proc/self/mountinfo | grep -v ^/sys/fs/cgroup | sort -r); do umount $m 2>/dev/null; done",
        'cat /sys/block/*/loop/backing_file /sys/devices/virtual/block/*/loop/backing_file 2>/dev/null',
        'cat /proc/self/mountinfo /proc/mounts /proc/partitions',
        'docker run --rm --privileged bb sh -c "mkdir -p /s && mount -t sysfs s /s && cat /s/block/*/loop/backing_file"',
      ].join('; '),
    );
    expect(seen).toContain('/disk.img'); // the backing files were read
    expect(seen).not.toContain(VICTIM);
    expect(seen).not.toContain(dataDir);
    expect(seen).not.toContain('/sandboxes/');
  }, 120_000);

  it('replaces the engine socket the server connects to, to get another sandbox’s engine', async () => {
    // Every socket the sandbox can see is its own; the old host-side directory is gone.
    await sh(
      ATTACKER,
      'test ! -e /run/docker-host; for s in $(find / -xdev -name "*.sock" -type s 2>/dev/null); do rm -f $s; ln -s /nonexistent $s; done; true',
    );
    const sock = rt.dockerSocket(ATTACKER);
    expect(engineSocket(sock)).toBe(sock);
    expect(statSync(path.dirname(sock)).mode & 0o7777).toBe(0o750);
    expect(statSync(sock).mode & 0o777).toBe(0o660);
    const tags = (await new Docker({ socketPath: sock }).listImages()).flatMap((i) => i.RepoTags ?? []);
    expect(tags).toContain('bb:latest');
    expect(tags).not.toContain('victim-secret:latest');

    // And what the server would refuse: a link, or a socket someone else made.
    const fake = mkdtempSync(path.join(os.tmpdir(), 'dockside-fake-run-'));
    try {
      symlinkSync(rt.dockerSocket(VICTIM), path.join(fake, 'docker.sock'));
      expect(() => engineSocket(path.join(fake, 'docker.sock'))).toThrow(/not as the runtime made it/);
      rmSync(path.join(fake, 'docker.sock'));
      const server = createServer().listen(path.join(fake, 'docker.sock'));
      await new Promise((r) => server.once('listening', r));
      execFileSync('chown', ['-h', '402:402', path.join(fake, 'docker.sock')]);
      expect(() => engineSocket(path.join(fake, 'docker.sock'))).toThrow(/not as the runtime made it/);
      server.close();
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });

  it("finds its terminal's holder to signal or trace it, or its socket to replace it", async () => {
    await rt.openSession(ATTACKER, 't-atk', ['sleep', '600'], { cols: 80, rows: 24 });
    // Inside: the holder is in none of its pid namespaces, and no path leads to its socket.
    const seen = await sh(
      ATTACKER,
      'grep -l dockside-term /proc/[0-9]*/comm 2>/dev/null | wc -l; find / -xdev -name "t-atk.sock" 2>/dev/null | wc -l; pgrep -x sleep | wc -l',
    );
    expect(seen.trim().split('\n')).toEqual(['0', '0', '1']); // its program, sleep, is there
    // Outside: the holder runs as the sandbox's root (an unprivileged id), in its terminals' cgroup.
    const holders = spawnSync('pgrep', ['-x', 'dockside-term'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter((pid) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/dockside-terminals/${ATTACKER}\n`));
    expect(holders).toHaveLength(1);
    const uids = /^Uid:\s+(.*)$/m
      .exec(readFileSync(`/proc/${holders[0]}/status`, 'utf8'))![1]!
      .split(/\s+/)
      .map(Number);
    expect(uids).toEqual([401 * 65536, 401 * 65536, 401 * 65536, 401 * 65536]);
    const sock = rt.sessionSocket(ATTACKER, 't-atk');
    expect(statSync(sock).uid).toBe(0);
    expect(statSync(sock).mode & 0o777).toBe(0o660);
    expect(statSync(path.dirname(sock)).mode & 0o7777).toBe(0o750);
    expect(statSync(path.dirname(sock)).uid).toBe(0);
  });

  it("moves a process into or out of its terminal's CPU group, or lifts that group's limits, from inside", async () => {
    const quota = v1 ? 'cpu.cfs_quota_us' : 'cpu.max';
    const bounds = () =>
      [
        terminalCgroupFile('', quota),
        terminalCgroupFile(ATTACKER, quota),
        ...(v1 ? [] : ['memory.max', 'pids.max'].map((f) => terminalCgroupFile(ATTACKER, f))),
      ].map(readCg);
    const before = bounds();
    const tryAll = (pid: string, tag: string) =>
      `for f in $(find /sys/fs/cgroup -name cgroup.procs); do echo ${pid} 2>/dev/null >$f && echo "${tag} $f"; done`;
    // The terminal's program tries to leave with itself; then root inside (exec) tries with it and with itself.
    const t = await runInTerminal(
      rt,
      ATTACKER,
      't-cg',
      `read go; echo "seen=$(grep -m1 -o 'dockside-terminals.*' /proc/self/cgroup)"; ${tryAll('$$', 'left-via')}; echo "tried $$"; exec cat`,
    );
    const hostPid = terminalPids(ATTACKER).find((p) => readCg(`/proc/${p}/cmdline`).includes('left-via'))!;
    expect(hostPid).toBeDefined();
    t.send('go');
    const pid = /tried (\d+)/.exec(await t.waitFor('tried '))![1]!;
    // It sees the path, as /proc/self/cgroup shows it, and nothing more.
    expect(t.output()).toContain(`seen=dockside-terminals/${ATTACKER}`);
    const mount = v1 ? 'mount -t cgroup -o cpu none /tmp/cgm' : 'mount -t cgroup2 none /tmp/cgm';
    const out = await sh(
      ATTACKER,
      `echo "visible=$(find /sys/fs/cgroup -name '*terminals*' | wc -l)"
       mkdir -p /tmp/cgm && ${mount} && echo "mounted=$(find /tmp/cgm -name '*terminals*' | wc -l)"; umount /tmp/cgm
       ${tryAll(pid, 'moved-it-via')}; ${tryAll('$$', 'joined-via')}; echo "joined=$(grep -c dockside-terminals /proc/self/cgroup)"`,
    );
    // Not below its cgroup mounts, not in a cgroup filesystem it mounts itself; and whatever it moved,
    // nothing of the sandbox's joined the terminals' group.
    expect(out).toMatch(/^visible=0$/m);
    expect(out).toMatch(/^mounted=0$/m);
    expect(out).toMatch(/^joined=0$/m);
    expect(bounds()).toEqual(before);
    const cpu = cgroupsOf(hostPid).get(v1 ? 'cpu' : '');
    if (v1) {
      // v1 checks only the ids (it is the sandbox's root's own process): the program may leave, into the
      // sandbox's own cgroups and so under its limits, which only lowers it.
      expect(cpu === `/dockside-terminals/${ATTACKER}` || cpu!.startsWith(`/dockside/${ATTACKER}/sandbox`)).toBe(true);
    } else {
      expect(t.output()).not.toMatch(/left-via/);
      expect(out).not.toMatch(/moved-it-via/);
      expect(cpu).toBe(`/dockside-terminals/${ATTACKER}`);
    }
    await rt.exec(ATTACKER, ['kill', pid]);
    await t.exited;
  }, 120_000);

  it('raises the CPU weight of all sandboxes, or of its own, from inside', async () => {
    const file = v1 ? 'cpu.shares' : 'cpu.weight';
    const root = v1 ? '/sys/fs/cgroup/cpu' : '/sys/fs/cgroup';
    const weights = () => [`${root}/dockside/${file}`, `${root}/dockside/${ATTACKER}/${file}`].map(readCg);
    const before = weights();
    const high = v1 ? '262144' : '10000';
    const mount = v1 ? 'mount -t cgroup -o cpu none /tmp/cgw' : 'mount -t cgroup2 none /tmp/cgw';
    const out = await sh(
      ATTACKER,
      `mkdir -p /tmp/cgw; ${mount} 2>/dev/null
       for f in $(find /sys/fs/cgroup /tmp/cgw -name ${file} 2>/dev/null); do echo ${high} 2>/dev/null >$f && echo "raised $f"; done
       umount /tmp/cgw 2>/dev/null; echo done`,
    );
    expect(out).toMatch(/^done$/m);
    // Whatever it may set below its own cgroup namespace re-divides its own share; the weights above stay.
    expect(weights()).toEqual(before);
    expect(before[0]).toBe(v1 ? '256' : '25');
  }, 60_000);

  it("runs a build from its terminal to give the build the terminal's CPU group", async () => {
    const t = await runInTerminal(
      rt,
      ATTACKER,
      't-build',
      `read go; mkdir -p /tmp/tb && cd /tmp/tb && printf 'FROM bb:latest\\nRUN sleep 47\\n' >Dockerfile && docker build -q --no-cache .; echo "build ended $?"`,
    );
    t.send('go');
    const inRange = (pid: string) => {
      try {
        const uid = Number(/^Uid:\s+(\d+)/m.exec(readCg(`/proc/${pid}/status`))![1]);
        return uid >= 401 * 65536 && uid < 402 * 65536;
      } catch {
        return false;
      }
    };
    const find = (cmdline: string) =>
      readdirSync('/proc').find((p) => {
        try {
          return /^\d+$/.test(p) && inRange(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8') === cmdline;
        } catch {
          return false;
        }
      });
    let step: string | undefined;
    for (let i = 0; i < 600 && !step; i++) {
      step = find('sleep\x0047\x00');
      if (!step) await new Promise((r) => setTimeout(r, 100));
    }
    expect(step, `the build's RUN never started:\n${t.output()}`).toBeDefined();
    const controller = v1 ? 'cpu' : '';
    // The RUN step is the engine's (below the sandbox's own cgroup, where dockerd is); the client that asked
    // for it is the terminal's.
    expect(cgroupsOf(step!).get(controller)).toMatch(new RegExp(`^/dockside/${ATTACKER}/sandbox(/|$)`));
    const dockerd = spawnSync('pgrep', ['-x', 'dockerd'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(inRange);
    expect(cgroupsOf(dockerd[0]!).get(controller)).toMatch(new RegExp(`^/dockside/${ATTACKER}/sandbox(/|$)`));
    expect(terminalPids(ATTACKER).some((p) => readCg(`/proc/${p}/comm`) === 'docker')).toBe(true);
    process.kill(Number(step), 'SIGKILL');
    expect(await t.waitFor('build ended')).toMatch(/build ended [1-9]/);
    await t.exited;
  }, 180_000);

  it('keeps printing until the server has buffered all of it', async () => {
    const before = process.memoryUsage().rss;
    await expect(rt.exec(ATTACKER, ['head', '-c', '200M', '/dev/zero'])).rejects.toThrow(
      /printed more than 8388608 bytes/,
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 ** 2);
  });

  it('takes an id range that /etc/subuid gives a user, or that a host process runs in', async () => {
    const sleeper = spawn('sleep', ['60'], { uid: 406 * 65536 + 7, gid: 406 * 65536 + 7, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    try {
      const r = cli('create', 'atk-range', '--range', '406');
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(/id range 406 .* is used by process \d+/);
    } finally {
      sleeper.kill('SIGKILL');
    }
    const saved = (() => {
      try {
        return readFileSync('/etc/subuid', 'utf8');
      } catch {
        return null;
      }
    })();
    try {
      appendFileSync('/etc/subuid', `dockside-test:${407 * 65536 + 100}:65536\n`);
      for (const range of ['407', '408']) {
        const r = cli('create', 'atk-range', '--range', range);
        expect(r.status).toBe(4);
        expect(r.stderr).toMatch(/overlaps dockside-test's ids in \/etc\/subuid/);
      }
    } finally {
      if (saved === null) rmSync('/etc/subuid', { force: true });
      else writeFileSync('/etc/subuid', saved);
    }
    expect(cli('inspect', 'atk-range', '--json').status).toBe(3);
  });

  it('connects to a published port and finds the relay still holding host root', async () => {
    await sh(ATTACKER, 'docker run -d --name web -p 8080:80 bb httpd -f -p 80 >/dev/null; sleep 0.5');
    const env = { PATH: process.env.PATH, DOCKSIDE_DATA_DIR: dataDir } as unknown as NodeJS.ProcessEnv;
    const relay = spawn(rt.bin, ['connect', ATTACKER, '8080'], { env, stdio: 'pipe' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const inner = Number(readFileSync(`/proc/${relay.pid}/task/${relay.pid}/children`, 'utf8').trim());
      const uids = /^Uid:\s+(.*)$/m
        .exec(readFileSync(`/proc/${inner}/status`, 'utf8'))![1]!
        .split(/\s+/)
        .map(Number);
      expect(uids).toEqual([401 * 65536, 401 * 65536, 401 * 65536, 401 * 65536]);
    } finally {
      relay.kill('SIGKILL');
    }
  });

  // Last: it breaks the attacker's own tools.
  it('replaces the programs the files API ran (sh, stat, cat, …) and waits for the server to run them', async () => {
    // Each replaced program marks that it ran and prints 30 MiB, as the fake `stat` of the report did.
    const fake = '#!/bin/bash\n: > /tmp/ran-by-server\n/opt/real/head -c 31457280 /dev/zero\n';
    await sh(
      ATTACKER,
      'mkdir -p /opt/real && cp /usr/bin/head /opt/real/ && cat > /opt/fake && chmod 755 /opt/fake && for b in sh dash stat realpath find cat sha256sum head mv rm mkdir cut dirname basename; do for p in /bin/$b /usr/bin/$b; do if [ -e $p ] || [ -L $p ]; then cp --remove-destination /opt/fake $p; fi; done; done',
      Buffer.from(fake),
    );
    const files = new WorkspaceFiles(rt);
    const { etag } = await files.write(ATTACKER, '/workspace/notes.txt', 'hello\n');
    expect(await files.read(ATTACKER, '/workspace/notes.txt')).toEqual({
      path: '/workspace/notes.txt',
      content: 'hello\n',
      etag,
    });
    await files.create(ATTACKER, '/workspace/dir', 'dir');
    await files.rename(ATTACKER, '/workspace/notes.txt', '/workspace/dir/notes.txt');
    expect((await files.list(ATTACKER, '/workspace/dir')).map((e) => e.name)).toEqual(['notes.txt']);
    await files.remove(ATTACKER, '/workspace/dir');
    expect((await files.list(ATTACKER, '/workspace')).map((e) => e.name)).not.toContain('dir');
    const marker = await rt.file(ATTACKER, 'read', ['/tmp/ran-by-server'], { under: '/' });
    expect(marker.code).toBe(FILE_EXIT.notFound);
  });
});
