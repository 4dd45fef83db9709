// Test VMs for host portability: Debian's kernel under qemu (software emulation: KVM does not work on
// these nested machines), a root disk made of the sandbox base image plus the runtime and guest.sh, and
// a blank data disk. guest.sh is pid 1: it lays out cgroups as the kernel command line says and prints
// one RESULT line per check on the serial console, which is all a boot returns.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import path from 'node:path';
import { NATIVE_BUILD_DIR } from '../../src/paths';

export type Layout = 'v2' | 'v1' | 'v2-nomem';
export type CheckResult = { name: string; ok: boolean; detail: string };
export type Boot = { layout: Layout; results: CheckResult[]; done: boolean; seconds: number; console: string };

const GUEST = path.join(import.meta.dirname, 'guest.sh');
// The module subtrees a sandbox needs: filesystems, loop, networking for the engine's bridge.
const MODULE_DIRS = ['fs', 'net', 'drivers/block', 'drivers/net', 'lib', 'crypto', 'arch'];

/** Debian's newest installed kernel and its initramfs (package linux-image-amd64). */
export function debianKernel(): { version: string; vmlinuz: string; initrd: string } | null {
  const versions = existsSync('/boot')
    ? readdirSync('/boot')
        .map((f) => /^vmlinuz-(.+-amd64)$/.exec(f)?.[1])
        .filter((v): v is string => !!v && existsSync(`/boot/initrd.img-${v}`) && existsSync(`/lib/modules/${v}`))
    : [];
  const version = versions.sort().at(-1);
  return version ? { version, vmlinuz: `/boot/vmlinuz-${version}`, initrd: `/boot/initrd.img-${version}` } : null;
}

export function vmAvailable(): boolean {
  return existsSync('/usr/bin/qemu-system-x86_64') && debianKernel() !== null;
}

const sha = (...parts: (string | Buffer)[]) =>
  parts
    .reduce((h, p) => h.update(p), createHash('sha256'))
    .digest('hex')
    .slice(0, 16);

/**
 * The root disk, built once per base image, runtime, guest script and kernel (under
 * `<data dir>/vm/<hash>/root.img`); boots use it read-only (qemu's snapshot=on).
 */
export function rootDisk(dataDir: string): string {
  const kernel = debianKernel()!;
  const base = path.join(dataDir, 'images', 'base', 'current', 'rootfs');
  const bins = ['dockside-sandbox', 'dockside-init'].map((b) => path.join(NATIVE_BUILD_DIR, b));
  const hash = sha(
    execFileSync('readlink', ['-f', base]),
    ...bins.map((b) => readFileSync(b)),
    readFileSync(GUEST),
    kernel.version,
  );
  const dir = path.join(dataDir, 'vm', hash);
  const img = path.join(dir, 'root.img');
  if (existsSync(img)) return img;
  rmSync(path.join(dataDir, 'vm'), { recursive: true, force: true }); // older builds
  const stage = path.join(dir, 'stage');
  mkdirSync(dir, { recursive: true });
  execFileSync('cp', ['-a', `${base}/.`, stage]);
  const opt = path.join(stage, 'opt', 'dockside');
  mkdirSync(path.join(opt, 'bb', 'bin'), { recursive: true });
  mkdirSync(path.join(opt, 'bb', 'tmp'));
  for (const b of bins) copyFileSync(b, path.join(opt, path.basename(b)));
  chmodSync(path.join(opt, 'dockside-sandbox'), 0o755);
  copyFileSync(GUEST, path.join(opt, 'guest'));
  chmodSync(path.join(opt, 'guest'), 0o755);
  copyFileSync('/bin/busybox', path.join(opt, 'busybox')); // static: modprobe, poweroff, the test image
  copyFileSync('/bin/busybox', path.join(opt, 'bb', 'bin', 'busybox'));
  for (const applet of ['sh', 'cat', 'head', 'tail', 'echo', 'ls', 'sleep'])
    symlinkSync('busybox', path.join(opt, 'bb', 'bin', applet));
  const modules = `/lib/modules/${kernel.version}`;
  const into = path.join(stage, 'lib', 'modules', kernel.version);
  mkdirSync(into, { recursive: true });
  for (const f of readdirSync(modules).filter((f) => f.startsWith('modules.')))
    copyFileSync(path.join(modules, f), path.join(into, f));
  for (const d of MODULE_DIRS)
    if (existsSync(path.join(modules, 'kernel', d)))
      cpSync(path.join(modules, 'kernel', d), path.join(into, 'kernel', d), { recursive: true });
  // The runtime makes each sandbox's disk with mkfs.ext4, which setup requires of a host; the base image
  // (trixie minbase) has no e2fsprogs: the VM gets this machine's mke2fs with the libraries it lacks.
  const mke2fs = '/usr/sbin/mke2fs';
  const libs = execFileSync('ldd', [mke2fs], { encoding: 'utf8' }).match(/\/\S+\.so[.\d]*/g) ?? [];
  for (const f of [mke2fs, ...libs]) if (!existsSync(path.join(stage, f))) copyFileSync(f, path.join(stage, f));
  if (!existsSync(path.join(stage, 'usr/sbin/mkfs.ext4')))
    symlinkSync('mke2fs', path.join(stage, 'usr/sbin/mkfs.ext4'));
  mkdirSync(path.join(stage, 'data'));
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', stage, `${img}.tmp`, '3G']);
  renameSync(`${img}.tmp`, img);
  rmSync(stage, { recursive: true, force: true });
  return img;
}

const KERNEL_ARGS: Record<Layout, string> = {
  // As systemd sets up a pure cgroup v2 host: no v1 hierarchy at all.
  v2: 'systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all',
  v1: 'systemd.unified_cgroup_hierarchy=0',
  // A host Dockside cannot serve: no memory controller at all.
  'v2-nomem': 'systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all cgroup_disable=memory',
};

/** Boots one VM to the end of guest.sh (or the timeout) and returns its results. */
export async function boot(root: string, layout: Layout, workDir: string, timeoutMs: number): Promise<Boot> {
  const kernel = debianKernel()!;
  const data = path.join(workDir, `data-${layout}.img`);
  rmSync(data, { force: true });
  execFileSync('truncate', ['-s', '8G', data]);
  execFileSync('mkfs.ext4', ['-q', '-F', data]);
  const started = Date.now();
  const qemu = spawn(
    'qemu-system-x86_64',
    [
      ...['-accel', 'tcg', '-cpu', 'max', '-m', '2048', '-smp', '1', '-nographic', '-no-reboot', '-nic', 'none'],
      ...['-kernel', kernel.vmlinuz, '-initrd', kernel.initrd],
      '-append',
      `root=/dev/vda rw console=ttyS0 init=/opt/dockside/guest dockside.layout=${layout} ${KERNEL_ARGS[layout]} quiet panic=-1`,
      ...['-drive', `file=${root},format=raw,if=virtio,snapshot=on`],
      ...['-drive', `file=${data},format=raw,if=virtio`],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  qemu.stdout.on('data', (d) => (out += d));
  qemu.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => qemu.kill('SIGKILL'), timeoutMs);
  await new Promise((r) => qemu.on('close', r));
  clearTimeout(timer);
  rmSync(data, { force: true });
  // Anything before RESULT on its line is the console's own (trixie's boot clears the screen before the first).
  const results = [...out.matchAll(/^.*?RESULT (\S+) (ok|fail) ?(.*?)\r?$/gm)].map((m) => ({
    name: m[1]!,
    ok: m[2] === 'ok',
    detail: m[3]!,
  }));
  return {
    layout,
    results,
    done: new RegExp(`^DONE ${layout}\\r?$`, 'm').test(out),
    seconds: (Date.now() - started) / 1000,
    console: out,
  };
}
