// The native runtime, driven through its TypeScript driver and its CLI, against real sandboxes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime, RuntimeError } from '../../src/engine/nativeRuntime';
import { busyboxTar } from '../support/images';
import { CGROUP_V1, sandboxCgroupFile, sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-runtime-'));
const rt = new NativeRuntime(dataDir);
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const limits = { memoryBytes: GiB, pids: 2048, cpus: 1, diskBytes: 4 * GiB };

/** Runs a shell command in a sandbox; returns its output, failing the test on a non-zero exit. */
async function sh(id: string, script: string, stdin?: Buffer): Promise<string> {
  const r = await rt.exec(id, ['sh', '-c', script], { stdin, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`exit ${r.code} in ${id}: ${script}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.toString('utf8');
}

function cli(...args: string[]) {
  const env = { PATH: process.env.PATH, DOCKSIDE_DATA_DIR: dataDir } as unknown as NodeJS.ProcessEnv;
  return spawnSync(rt.bin, args, { env, encoding: 'utf8' });
}

/** The loop devices attached to a file, by inode (their backing file names no host path). */
function loopsOf(file: string): string[] {
  let ino: number;
  try {
    ino = statSync(file).ino;
  } catch {
    return [];
  }
  return execFileSync('losetup', ['-l', '-n', '-O', 'NAME,BACK-INO'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, i]) => Number(i) === ino)
    .map(([name]) => name!);
}

/** Everything on the host that could belong to a sandbox. */
function hostTraces(id: string, loops: string[]): string[] {
  const traces: string[] = [];
  if (readFileSync('/proc/self/mountinfo', 'utf8').includes(`/sandboxes/${id}`)) traces.push('mount');
  const attached = execFileSync('losetup', ['-l', '-n', '-O', 'NAME'], { encoding: 'utf8' }).split(/\s+/);
  traces.push(...loops.filter((l) => attached.includes(l)));
  for (const c of CGROUP_V1 ? ['memory', 'pids', 'cpu', 'freezer'] : ['.'])
    if (readdirSync(`/sys/fs/cgroup/${c}/dockside`, { withFileTypes: true }).some((d) => d.name === id))
      traces.push(`cgroup ${c}`);
  // Its terminals' cpu group, outside dockside/ (v1: cpu and cpuacct).
  for (const c of CGROUP_V1 ? ['cpu', 'cpuacct'] : ['.'])
    if (existsSync(`/sys/fs/cgroup/${c}/dockside-terminals/${id}`)) traces.push(`terminals cgroup ${c}`);
  try {
    readdirSync(path.join(dataDir, 'sandboxes', id));
    traces.push('state dir');
  } catch {
    /* gone */
  }
  return traces;
}

function processesInRange(range: number): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      if (uid >= range * 65536 && uid < (range + 1) * 65536) n++;
    } catch {
      /* exited */
    }
  }
  return n;
}

describe.runIf(sandboxesAvailable())('native sandbox runtime', () => {
  beforeAll(async () => {
    mkdirSync(path.join(dataDir, 'images'), { recursive: true });
    symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
    await Promise.all([rt.create('rt-a', 201, limits), rt.create('rt-b', 202, limits)]);
    const tar = busyboxTar();
    await Promise.all(['rt-a', 'rt-b'].map((id) => sh(id, 'docker import - bb:latest >/dev/null', tar)));
  }, 180_000);

  afterAll(async () => {
    for (const s of await rt.list()) await rt.destroy(s.id).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports a running sandbox with its range and limits', async () => {
    const info = await rt.inspect('rt-a');
    expect(info).toMatchObject({ id: 'rt-a', running: true, range: 201, limits: { memoryBytes: GiB, pids: 2048 } });
    expect(info.memoryUsage).toBeGreaterThan(10 * MiB);
    expect((await rt.list()).map((s) => s.id).sort()).toEqual(['rt-a', 'rt-b']);
  });

  it('runs, builds, shows history and diff, and sizes containers', async () => {
    expect(await sh('rt-a', 'docker run --rm bb echo hello-from-a-container')).toContain('hello-from-a-container');
    await sh(
      'rt-a',
      `mkdir -p /tmp/b && cd /tmp/b && printf 'FROM bb\\nRUN echo one > /one\\nRUN echo two > /two\\nRUN echo three > /three\\nCMD ["cat", "/one"]\\n' > Dockerfile && docker build -q -t layered . >/dev/null`,
    );
    const history = await sh('rt-a', 'docker history --format "{{.CreatedBy}}" layered');
    expect(history).toMatch(/echo three > \/three/);
    const layers = JSON.parse(await sh('rt-a', 'docker image inspect --format "{{json .RootFS.Layers}}" layered'));
    expect(layers).toHaveLength(4);
    await sh('rt-a', 'docker run --name changer bb sh -c "echo x > /tmp/new-file"');
    expect(await sh('rt-a', 'docker diff changer')).toContain('A /tmp/new-file');
    expect(await sh('rt-a', 'docker ps -a -s --format "{{.Names}} {{.Size}}"')).toMatch(/changer \d+B \(virtual/);
  });

  it('publishes a port that connect reaches, inside that sandbox only', async () => {
    await sh('rt-a', 'docker run -d --name web -p 8080:80 bb httpd -f -p 80 -h /www');
    await sh('rt-a', 'for i in $(seq 1 50); do docker exec web true && break; sleep 0.1; done');
    const conn = await rt.connect('rt-a', 8080);
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      conn.on('data', (d: Buffer) => (text += d.toString()));
      conn.on('end', () => resolve(text));
      conn.on('error', reject);
      conn.end('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
    });
    expect(reply).toMatch(/^HTTP\/1\.[01] 200/);
    expect(reply).toContain('hello from a sandbox');
    const other = cli('connect', 'rt-b', '8080');
    expect(other.status).toBe(5);
    expect(other.stderr.trim()).toBe('dockside-sandbox: connect: nothing listens on port 8080 in sandbox rt-b');
  });

  it('isolates sandboxes from each other and from the host', async () => {
    await sh('rt-b', 'echo secret > /root/b-only; (sleep 4242 >/dev/null 2>&1 &)');
    const psA = await sh('rt-a', 'ps -e -o pid=,comm=,args=');
    expect(psA).not.toContain('sleep 4242'); // the other sandbox's processes
    expect(psA).not.toMatch(/\bnode\b|vitest|postgres/); // the host's processes
    expect(psA).toMatch(/^\s*1 \S+\s+dockside-init/m);
    expect((await rt.exec('rt-a', ['cat', '/root/b-only'])).code).not.toBe(0);
    expect(await sh('rt-b', 'docker ps -a --format "{{.Names}}"')).not.toMatch(/web|changer/);
    expect(await sh('rt-b', 'docker images --format "{{.Repository}}"')).not.toContain('layered');
    expect((await rt.exec('rt-b', ['sh', '-c', 'exec 3<>/dev/tcp/127.0.0.1/8080'])).code).not.toBe(0);
    expect(await sh('rt-a', 'hostname')).toBe('rt-a\n');
  });

  it('lets --privileged -v /:/host reach only the sandbox itself', async () => {
    const out = await sh(
      'rt-a',
      'docker run --rm --privileged -v /:/host bb sh -c "cat /host/etc/hostname; ls /host/var/lib/dockside 2>&1; ls /host/work 2>&1; cat /host/proc/1/cmdline"',
    );
    expect(out).toContain('rt-a\n');
    expect(out).toMatch(/\/host\/var\/lib\/dockside: No such file or directory/);
    expect(out).toMatch(/\/host\/work: No such file or directory/);
    expect(out).toContain('dockside-init');
  });

  describe('limits', () => {
    beforeAll(async () => {
      await rt.create('rt-small', 203, { memoryBytes: 512 * MiB, pids: 400, cpus: 0.5, diskBytes: 1 * GiB });
    }, 60_000);

    it('kills a memory hog at the memory limit', async () => {
      // tail keeps the one endless "line" in memory until the kernel kills it.
      const out = await sh('rt-small', 'head -c 2000m /dev/zero | tail > /dev/null; echo "status=$?"');
      expect(out).toContain('status=137');
      const peak = Number(
        readFileSync(sandboxCgroupFile('rt-small', ['memory', 'memory.max_usage_in_bytes'], 'memory.peak'), 'utf8'),
      );
      // The kernel may force a page or two past the limit (charges that cannot fail), not more.
      expect(peak).toBeLessThanOrEqual(512 * MiB + 64 * 1024);
      // v1 counts the kill where the victim lived (the delegated cgroup), v2 up the tree too.
      const oom = readFileSync(
        sandboxCgroupFile('rt-small', ['memory', 'memory.oom_control'], 'memory.events', CGROUP_V1),
        'utf8',
      );
      expect(Number(/oom_kill (\d+)/.exec(oom)![1])).toBeGreaterThan(0);
    }, 180_000);

    it('stops a fork bomb at the pids limit', async () => {
      const out = await sh(
        'rt-small',
        'timeout 20 sh -c "while :; do sleep 60 >/dev/null 2>&1 & done" 2>&1 | tail -1; echo done',
      );
      expect(out).toMatch(/Cannot fork|Resource temporarily unavailable/);
      const current = Number(
        readFileSync(sandboxCgroupFile('rt-small', ['pids', 'pids.current'], 'pids.current'), 'utf8'),
      );
      expect(current).toBeLessThanOrEqual(400);
      // Where the refused fork is counted differs between v1 and v2: either cgroup counts.
      const refused = (inner: boolean) =>
        Number(
          /max (\d+)/.exec(
            readFileSync(sandboxCgroupFile('rt-small', ['pids', 'pids.events'], 'pids.events', inner), 'utf8'),
          )![1],
        );
      expect(refused(false) + refused(true)).toBeGreaterThan(0);
      await rt.exec('rt-small', ['sh', '-c', 'pkill sleep; true']);
      expect(await sh('rt-small', 'echo recovered')).toBe('recovered\n');
    }, 120_000);

    it('stops filling the disk at the quota', async () => {
      const r = await rt.exec('rt-small', ['sh', '-c', 'dd if=/dev/zero of=/var/lib/docker/fill bs=1M count=2000'], {
        timeoutMs: 120_000,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/No space left on device/);
      const used = Number((await sh('rt-small', 'du -sm /var/lib/docker/fill | cut -f1')).trim());
      expect(used).toBeLessThan(1024);
      await sh('rt-small', 'rm /var/lib/docker/fill');
    }, 180_000);

    it('leaves the host and the other sandboxes working afterwards', async () => {
      expect(await sh('rt-small', 'docker info --format "{{.ServerVersion}}"')).toMatch(/\d+\.\d+/);
      expect(await sh('rt-a', 'docker run --rm bb echo still-fine')).toContain('still-fine');
      expect(execFileSync('sh', ['-c', 'echo host-fine']).toString()).toBe('host-fine\n');
    });
  });

  it('destroys a sandbox leaving no mount, loop device, cgroup or process behind', async () => {
    await rt.create('rt-gone', 204, limits);
    await rt.openSession('rt-gone', 't-gone', ['sleep', '600'], { cols: 80, rows: 24 });
    const loops = loopsOf(path.join(dataDir, 'sandboxes', 'rt-gone', 'disk.img'));
    expect(loops).toHaveLength(1);
    expect(hostTraces('rt-gone', loops)).toEqual(
      expect.arrayContaining(['state dir', `terminals cgroup ${CGROUP_V1 ? 'cpu' : '.'}`]),
    );
    expect(processesInRange(204)).toBeGreaterThan(0);
    await rt.destroy('rt-gone');
    expect(hostTraces('rt-gone', loops)).toEqual([]);
    expect(processesInRange(204)).toBe(0);
  }, 60_000);

  describe('bad input', () => {
    it('names the problem with a distinct exit code', async () => {
      const cases: [string[], number, RegExp][] = [
        [['exec', 'no-such', '--', 'true'], 3, /no sandbox no-such/],
        [['inspect', 'Bad_Id', '--json'], 2, /invalid sandbox id "Bad_Id"/],
        [['create', '../etc', '--range', '300'], 2, /invalid sandbox id/],
        [['create', 'rt-a', '--range', '300'], 4, /sandbox rt-a already exists/],
        [['create', 'rt-c', '--range', '201'], 4, /id range 201 is already used/],
        [['create', 'rt-c', '--range', '0'], 2, /--range needs a whole number from 1/],
        [['create', 'rt-c', '--range', '5', '--memory', 'lots'], 2, /--memory needs a size/],
        [['create', 'rt-c', '--range', '16384'], 2, /--range needs a whole number from 1 to 16383/],
        [['create', 'rt-c', '--range', '-1'], 2, /--range needs a whole number/],
        [['create', 'rt-c', '--range', ' 5'], 2, /--range needs a whole number/],
        [['create', 'rt-c', '--range', '5x'], 2, /--range needs a whole number/],
        [['create', 'rt-c', '--range'], 2, /--range needs a whole number/],
        [['create', 'rt-c', '--range', '5', '--memory', '99999999999999999999G'], 2, /--memory needs a size/],
        [['create', 'rt-c', '--range', '5', '--memory', '-1G'], 2, /--memory needs a size/],
        [['create', 'rt-c', '--range', '5', '--disk', '1GB'], 2, /--disk needs a size from 256M to 2048G/],
        [['create', 'rt-c', '--range', '5', '--cpus', 'nan'], 2, /--cpus needs a number/],
        [['create', 'rt-c', '--range', '5', '--pids', '63'], 2, /--pids needs a whole number from 64/],
        [['create', 'a'.repeat(41), '--range', '5'], 2, /invalid sandbox id/],
        [['create', 'rt-c', '--range', '5', '--frob'], 2, /unknown option --frob/],
        [['session', 'rt-a', 'T1', '--', 'sh'], 2, /invalid terminal name "T1"/],
        [['session', 'rt-a', '..', '--', 'sh'], 2, /invalid terminal name/],
        [['session', 'rt-a', 'a'.repeat(33), '--', 'sh'], 2, /invalid terminal name/],
        [['session', '--cols', '0', 'rt-a', 't1', '--', 'sh'], 2, /--cols needs a whole number from 1 to 1000/],
        [['session', '--rows', '1001', 'rt-a', 't1', '--', 'sh'], 2, /--rows needs a whole number/],
        [['session', 'rt-a', 't1', 'sh'], 2, /session needs ID NAME -- CMD/],
        [['session', '--env', 'A', 'rt-a', 't1', '--', 'sh'], 2, /--env needs NAME=VALUE/],
        [['exec', '--env', 'NOEQUALS', 'rt-a', '--', 'true'], 2, /--env needs NAME=VALUE/],
        [['exec', '--env', '1A=secret', 'rt-a', '--', 'true'], 2, /--env: invalid name "1A":/],
        [['exec', '--cwd'], 2, /--cwd needs a value/],
        [['exec', 'rt-a', 'true'], 2, /exec needs ID -- CMD/],
        [['exec', 'rt-a', '--'], 2, /exec needs ID -- CMD/],
        [['exec', '-x', 'rt-a', '--', 'true'], 2, /unknown option -x/],
        [['connect', 'rt-a', '0'], 2, /invalid port 0/],
        [['connect', 'rt-a', '65536'], 2, /invalid port 65536/],
        [['file', 'rt-a', 'frob', '/workspace/x'], 2, /unknown file operation frob/],
        [['file', 'rt-a', 'read', 'relative'], 2, /is not absolute and normalised/],
        [['file', 'rt-a', 'read', '/workspace/../etc/passwd'], 2, /is not absolute and normalised/],
        [['file', 'rt-a', 'read', '/etc/passwd'], 11, /is outside \/workspace/],
        [['file', 'rt-a', 'write', '/workspace/x', '--if-match', 'zz'], 2, /--if-match needs a sha256/],
        [['file', 'rt-a', 'create', '/workspace/x', 'link'], 2, /create PATH file\|dir/],
        [['file', 'rt-a', 'read', '/workspace/x', 'extra'], 2, /list\|read\|remove PATH/],
        [['file', '--under', '/workspace/..', 'rt-a', 'list', '/workspace'], 2, /--under needs an absolute/],
        [['stop'], 2, /stop takes one sandbox id/],
        [['destroy', 'Bad'], 2, /invalid sandbox id "Bad"/],
        [['destroy', 'no-such'], 3, /no sandbox no-such/],
        [['list'], 2, /list takes --json/],
        [['frobnicate'], 2, /unknown command frobnicate/],
      ];
      for (const [args, code, message] of cases) {
        const r = cli(...args);
        expect({ args, code: r.status }).toEqual({ args, code });
        expect(r.stderr).toMatch(message);
        expect(r.stderr.split('\n')[0]).toMatch(/^dockside-sandbox: /);
        expect(r.stderr).not.toMatch(/secret/); // an --env value is never shown
      }
    });

    it('refuses to exec into a stopped sandbox', async () => {
      await rt.create('rt-stop', 205, limits);
      await rt.openSession('rt-stop', 't-stop', ['sleep', '600'], { cols: 80, rows: 24 });
      await rt.stop('rt-stop');
      expect((await rt.inspect('rt-stop')).running).toBe(false);
      // Its terminals ended with it, and their cgroup is gone as its own are.
      expect(hostTraces('rt-stop', []).filter((t) => t.includes('cgroup'))).toEqual([]);
      expect(processesInRange(205)).toBe(0);
      const r = cli('exec', 'rt-stop', '--', 'true');
      expect(r.status).toBe(5);
      expect(r.stderr).toMatch(/sandbox rt-stop is not running/);
      await expect(rt.destroy('rt-stop')).resolves.toBeUndefined();
      await expect(rt.destroy('rt-stop')).rejects.toSatisfy((e: RuntimeError) => e.kind === 'not_found');
    }, 60_000);
  });
});
