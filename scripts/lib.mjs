// Shared by start.mjs and test.mjs. Plain Node, no dependencies: it runs before `npm install`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMPS = path.join(ROOT, 'node_modules', '.dockside-stamps');

/** Every benchmark (server/bench/<name>.bench.ts, `npm run bench:<name>`): `npm run bench` runs them, `npm test` in quick mode. */
export const BENCHES = ['sandbox', 'registry', 'engine', 'web', 'layers', 'workshop', 'restart'];

export function step(message) {
  console.log(`\x1b[1m==> ${message}\x1b[0m`);
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited with ${r.status ?? r.signal}`);
}

export function which(cmd) {
  return (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((dir) => existsSync(path.join(dir, cmd)));
}

/** Hash of files and directories (recursively), to skip work whose inputs did not change. */
export function hashInputs(paths) {
  const h = createHash('sha256');
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (
          ['node_modules', '.next', 'build', 'next-env.d.ts', 'monaco'].includes(name) ||
          name.endsWith('.tsbuildinfo')
        )
          continue;
        visit(path.join(p, name));
      }
    } else {
      h.update(path.relative(ROOT, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const p of paths) visit(path.join(ROOT, p));
  return h.digest('hex');
}

/** Runs `work` unless the inputs' hash matches the last successful run. */
export function once(name, inputs, work, { check = () => true } = {}) {
  const file = path.join(STAMPS, name);
  if (existsSync(file) && readFileSync(file, 'utf8') === hashInputs(inputs) && check()) return false;
  work();
  mkdirSync(STAMPS, { recursive: true });
  writeFileSync(file, hashInputs(inputs)); // after the work: it may rewrite its inputs (package-lock.json)
  return true;
}

// Debian packages the product needs on the host, by the command (or file) that proves each is there.
export const SYSTEM_PACKAGES = [
  ['make', 'make'],
  ['gcc', 'gcc'],
  ['/usr/lib/x86_64-linux-gnu/libc.a', 'libc6-dev'], // static binaries: dockside-init, hello-world
  ['debootstrap', 'debootstrap'],
  ['mkfs.ext4', 'e2fsprogs'],
  ['losetup', 'mount'],
  ['docker-registry', 'docker-registry'],
  ['openssl', 'openssl'],
  ['busybox', 'busybox-static'],
  ['/usr/sbin/squid', 'squid'], // the egress proxy, run by the server itself (server/src/egress/)
];

/** What the host lacks to run Dockside, as sentences; installs packages itself when it can. */
export function checkHost({ install = true } = {}) {
  const problems = [];
  if (process.platform !== 'linux') return [`Dockside runs sandboxes on Linux only (this is ${process.platform})`];
  const [maj, min] = os.release().split('.').map(Number);
  if (maj < 5 || (maj === 5 && min < 19))
    problems.push(`Linux kernel ${os.release()} is too old: idmapped overlay layers need 5.19 or later`);
  const [nmaj, nmin] = process.versions.node.split('.').map(Number);
  if (nmaj < 20 || (nmaj === 20 && nmin < 19))
    problems.push(`Node.js ${process.versions.node} is too old: need 20.19 or later`);

  const present = (what) => (what.startsWith('/') ? existsSync(what) : which(what));
  const missing = SYSTEM_PACKAGES.filter(([what]) => !present(what)).map(([, pkg]) => pkg);
  const isRoot = process.getuid?.() === 0;
  const apt = which('apt-get');
  if (missing.length && isRoot && apt && install) {
    step(`Installing system packages: ${missing.join(' ')}`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } else if (missing.length) {
    problems.push(
      `missing system packages: ${missing.join(', ')} (install them with: sudo apt-get install ${missing.join(' ')})`,
    );
  }
  if (!isRoot)
    problems.push('not running as root: run `npm start` as root once so it can build the sandbox runtime and images');
  return problems;
}
