// What `npm test` needs beyond `npm start`: Chromium for the browser tests, a PostgreSQL server for
// the PostgreSQL tests, HAProxy in front of the two-replica tests' servers, and qemu with Debian's
// kernel for the host-portability VMs. Installed and started here so a fresh machine needs nothing done by hand.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { HAPROXY_BIN } from './haproxy.mjs';
import { run, step, which } from './lib.mjs';

const TEST_ROLE = 'dockside_test';

export function ensureTestServices() {
  const isRoot = process.getuid?.() === 0;
  const missing = [];
  if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) missing.push('chromium');
  // Korean text in the browser tests' screenshots needs a CJK font.
  if (!existsSync('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc')) missing.push('fonts-noto-cjk');
  if (!process.env.DOCKSIDE_TEST_POSTGRES_URL && !existsSync('/usr/lib/postgresql')) missing.push('postgresql');
  if (!existsSync(HAPROXY_BIN)) missing.push('haproxy');
  if (!existsSync('/usr/bin/qemu-system-x86_64')) missing.push('qemu-system-x86');
  const kernels = existsSync('/boot') ? readdirSync('/boot').filter((f) => /^vmlinuz-.*-amd64$/.test(f)) : [];
  if (kernels.length === 0) missing.push('linux-image-amd64');
  if (missing.length && isRoot && which('apt-get')) {
    step(`Installing test dependencies: ${missing.join(' ')}`);
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  if (!process.env.DOCKSIDE_TEST_POSTGRES_URL && isRoot) process.env.DOCKSIDE_TEST_POSTGRES_URL = startPostgres();
}

/**
 * A PostgreSQL server for tests and benchmarks: DOCKSIDE_TEST_POSTGRES_URL if set, else (as root) the
 * local one, started if need be, with a role that may create databases. Undefined when neither.
 */
export function testPostgresUrl() {
  if (process.env.DOCKSIDE_TEST_POSTGRES_URL) return process.env.DOCKSIDE_TEST_POSTGRES_URL;
  if (process.getuid?.() !== 0 || !existsSync('/usr/lib/postgresql')) return undefined;
  return (process.env.DOCKSIDE_TEST_POSTGRES_URL = startPostgres());
}

function startPostgres() {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort() : [];
  const version = versions.at(-1);
  if (!version) throw new Error('PostgreSQL is not installed: apt-get install postgresql');
  const status = () => {
    try {
      execFileSync('pg_ctlcluster', [version, 'main', 'status'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!status()) {
    step(`Starting PostgreSQL ${version}`);
    run('pg_ctlcluster', [version, 'main', 'start']);
  }
  const sql = `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${TEST_ROLE}') THEN
      CREATE ROLE ${TEST_ROLE} LOGIN PASSWORD '${TEST_ROLE}' CREATEDB;
    END IF; END $$;`;
  run('runuser', ['-u', 'postgres', '--', 'psql', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { cwd: '/' });
  return `postgres://${TEST_ROLE}:${TEST_ROLE}@127.0.0.1:5432/postgres`;
}
