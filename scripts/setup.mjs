// Sets up whatever is missing: system packages, npm deps, native runtime, sandbox image, lesson images,
// database client, web build. Each step is skipped when its inputs are unchanged since it last succeeded.
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { checkHost, once, ROOT, run, step } from './lib.mjs';
import { DEFAULT_DATA_DIR, SERVICE_USER, serviceUser } from './service-user.mjs';
const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');

export function setup() {
  const problems = checkHost();
  for (const p of problems) console.warn(`dockside: warning: ${p}`);
  if (process.getuid?.() === 0) stopSystemSquid();

  once(
    'npm-install',
    [
      'package.json',
      'package-lock.json',
      'server/package.json',
      'web/package.json',
      'lessons/package.json',
      'protocol/package.json',
      'e2e/package.json',
    ],
    () => {
      step('Installing npm dependencies');
      run('npm', ['install', '--no-audit', '--no-fund']);
    },
    { check: () => existsSync(tsx) },
  );

  once(
    'prisma-generate',
    ['prisma/schema.prisma', 'prisma/postgresql/schema.prisma'],
    () => {
      step('Generating the database client');
      const env = {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true',
        CHECKPOINT_DISABLE: '1',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      };
      for (const schema of ['prisma/schema.prisma', 'prisma/postgresql/schema.prisma'])
        run(path.join(ROOT, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', schema], { env });
    },
    { check: () => existsSync(path.join(ROOT, 'server/src/generated/sqlite/client.ts')) },
  );

  if (existsSync(path.join(ROOT, 'native', 'Makefile'))) {
    step('Building the sandbox runtime (native/)');
    run('make', ['-s', '-C', 'native']);
    if (process.getuid?.() === 0) installRuntime();
  }
  if (process.getuid?.() === 0 && existsSync(path.join(ROOT, 'native', 'image', 'build-base.sh'))) {
    step('Preparing the sandbox base image');
    run('bash', ['native/image/build-base.sh']);
  }
  if (process.getuid?.() === 0 && existsSync(path.join(ROOT, 'server', 'src', 'images', 'build.ts'))) {
    step('Preparing the lesson images');
    run(tsx, ['server/src/images/build.ts']);
  }
  if (process.getuid?.() === 0 && existsSync(path.join(ROOT, 'server', 'src', 'kubernetes', 'sandboxImage.ts'))) {
    // The sandbox as an image a Kubernetes cluster can pull (docs/kubernetes.md); cached, so usually instant.
    step('Preparing the sandbox image for Kubernetes');
    run(tsx, ['server/src/kubernetes/sandboxImage.ts']);
  }

  if (process.getuid?.() === 0) prepareStateDir();

  once(
    'next-build',
    ['web', 'lessons/src', 'lessons/package.json', 'protocol/src', 'protocol/package.json', 'package-lock.json'],
    () => {
      step('Building the web app');
      // Beside the one a running server may be serving, then swapped in at once.
      const web = path.join(ROOT, 'web');
      rmSync(path.join(web, '.next-build'), { recursive: true, force: true });
      run('npm', ['run', 'build'], { cwd: web, env: { ...process.env, DOCKSIDE_WEB_BUILD_DIR: '.next-build' } });
      rmSync(path.join(web, '.next-old'), { recursive: true, force: true });
      if (existsSync(path.join(web, '.next'))) renameSync(path.join(web, '.next'), path.join(web, '.next-old'));
      renameSync(path.join(web, '.next-build'), path.join(web, '.next'));
      rmSync(path.join(web, '.next-old'), { recursive: true, force: true });
      // Next.js wrote the build dir's name into the type references; they are the app's now.
      const envTypes = path.join(web, 'next-env.d.ts');
      writeFileSync(envTypes, readFileSync(envTypes, 'utf8').replaceAll('./.next-build/', './.next/'));
    },
    { check: () => existsSync(path.join(ROOT, 'web', '.next', 'BUILD_ID')) },
  );
}

/**
 * Debian's squid package starts a system-wide squid on port 3128; Dockside runs its own (egress/) as
 * the server's child, so the system's is stopped and kept from starting at boot.
 */
function stopSystemSquid() {
  const quiet = { stdio: 'ignore' };
  if (existsSync('/run/systemd/system')) {
    if (spawnSync('systemctl', ['is-enabled', '--quiet', 'squid'], quiet).status === 0)
      step('Disabling the system squid service (Dockside runs its own)');
    spawnSync('systemctl', ['disable', '--now', '--quiet', 'squid'], quiet);
  } else if (existsSync('/etc/init.d/squid') && spawnSync('service', ['squid', 'status'], quiet).status === 0) {
    step('Stopping the system squid service (Dockside runs its own)');
    spawnSync('service', ['squid', 'stop'], quiet);
  }
}

/** The service user, and the runtime setuid root but executable only by that user's group. */
function installRuntime() {
  if (!serviceUser()) {
    step(`Creating the system user ${SERVICE_USER} (the server runs as it)`);
    run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      SERVICE_USER,
    ]);
  }
  const bin = path.join(ROOT, 'native', 'build', 'dockside-sandbox');
  chownSync(bin, 0, serviceUser().gid);
  chmodSync(bin, 0o4750);
}

/**
 * The data dir stays root's (native/ works in it); the server writes only `server/` (database, secret,
 * layer cache), `registry/` (its registry's storage and sockets) and `egress/` (squid's cache and logs),
 * so those are the service user's.
 * Files from before this split move into `server/`.
 */
function prepareStateDir() {
  const user = serviceUser();
  if (!user) return;
  const dataDir = DEFAULT_DATA_DIR;
  const stateDir = path.join(dataDir, 'server');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o755);
  for (const name of readdirSync(dataDir))
    if (/^dockside\.db(-journal|-wal|-shm)?$/.test(name) || name === 'session-secret' || name === 'layer-cache')
      if (!existsSync(path.join(stateDir, name))) renameSync(path.join(dataDir, name), path.join(stateDir, name));
  // The egress proxy's squid runs as the server's user too, with its cache and logs there.
  mkdirSync(path.join(dataDir, 'egress'), { recursive: true, mode: 0o700 });
  for (const dir of [stateDir, path.join(dataDir, 'registry'), path.join(dataDir, 'egress')])
    if (existsSync(dir)) {
      run('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
      run('chmod', ['-R', 'u+rwX', dir]); // directories an old registry made without x for its owner
    }
}
