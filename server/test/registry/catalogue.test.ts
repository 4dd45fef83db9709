// Every image of the catalogue, pulled from the real registry into a real sandbox, does what its Docker
// Hub namesake does for its documented basic use: redis answers PONG, postgres and mariadb/mysql answer
// `select 1` with the password they were given (and postgres refuses to start without one, in the official
// image's words), httpd says "It works!", debian's tags are the releases they name.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { loadCatalogue } from '../../src/images/catalogue';
import { startLessonRegistry } from '../../src/images/lessonRegistry';
import type { RegistrySupervisor } from '../../src/registry/supervisor';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/docker-registry') && sandboxesAvailable();
// Short: unix socket paths must stay under 108 bytes.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ds-cat-'));
const rt = new NativeRuntime(dataDir);
const ID = `cat-${process.pid}`;
// Ranges name host uids and stay within the runtime's 1..16383; other tests use other ones.
const range = 14000 + (process.pid % 500) * 2;
let registry: RegistrySupervisor | undefined;

async function sh(script: string, timeoutMs = 180_000): Promise<string> {
  const r = await rt.exec(ID, ['sh', '-c', script], { timeoutMs });
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${script}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.toString();
}

/** Runs `command` in the sandbox until it succeeds (a server starting), returning its output. */
async function eventually(command: string, seconds = 60): Promise<string> {
  return sh(
    `for i in $(seq 1 ${seconds * 2}); do out=$(${command} 2>&1) && { printf '%s' "$out"; exit 0; }; sleep 0.5; done; printf '%s' "$out"; exit 1`,
    (seconds + 30) * 1000,
  );
}

beforeAll(async () => {
  if (!canRun) return;
  // The images `npm start` built come from the shared cache; this registry is our own.
  ({ registry } = await startLessonRegistry({ dataDir, cacheDir: path.join(SHARED_DATA_DIR, 'images', 'lessons') }));
  mkdirSync(path.join(dataDir, 'images'), { recursive: true });
  symlinkSync(path.join(SHARED_DATA_DIR, 'images', 'base'), path.join(dataDir, 'images', 'base'));
  await rt.create(ID, range, { memoryBytes: 2 * 1024 ** 3, pids: 4096, cpus: 2, diskBytes: 8 * 1024 ** 3 });
}, 900_000);

afterAll(async () => {
  if (canRun) await rt.destroy(ID).catch(() => {});
  await registry?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.runIf(canRun)('the image catalogue in a sandbox', () => {
  it('carries every tag of the catalogue', async () => {
    // The catalogue page and `docker search` list these; each must pull.
    const references = loadCatalogue().flatMap((i) => i.tags.map((t) => `${i.repository}:${t}`));
    expect(references).toEqual(expect.arrayContaining(['redis:7', 'postgres:15', 'mysql:latest', 'debian:13']));
    const out = await sh(
      `for r in ${references.join(' ')}; do docker pull -q "$r" >/dev/null 2>&1 || echo "missing $r"; done`,
      600_000,
    );
    expect(out).toBe('');
  });

  it('redis: docker run -d redis answers PONG, on the published port too, as the user redis in /data', async () => {
    await sh('docker run -d --name cat-redis -p 6379:6379 redis >/dev/null');
    expect(await eventually('docker exec cat-redis redis-cli ping')).toBe('PONG');
    // Protected mode is off, as in the official image: a client from outside the container gets in.
    expect(await sh('docker run --rm --network host redis redis-cli -h 127.0.0.1 ping')).toBe('PONG\n');
    expect(await sh("docker exec cat-redis sh -c 'pwd; stat -c %U /proc/1'")).toBe('/data\nredis\n');
    expect(await sh('docker logs cat-redis 2>&1')).toMatch(/Ready to accept connections/);
  });

  it('postgres: with POSTGRES_PASSWORD, psql -U postgres answers select 1; without, it exits with the official error', async () => {
    await sh('docker run -d --name cat-pg -e POSTGRES_PASSWORD=secret -e POSTGRES_DB=shop postgres >/dev/null');
    // As with the official image, a temporary server answers on the socket during initialisation: wait for its end.
    await eventually(
      "docker logs cat-pg 2>&1 | grep -q 'ready for start up' && docker logs cat-pg 2>&1 | grep -q 'port 5432'",
      90,
    );
    expect(await eventually("docker exec cat-pg psql -U postgres -tAc 'select 1'")).toBe('1');
    expect(await sh("docker exec cat-pg psql -U postgres -d shop -tAc 'select current_database()'")).toBe('shop\n');
    // The official image's locale, which initdb gave the databases.
    expect(await sh("docker exec cat-pg psql -U postgres -tAc 'show lc_collate'")).toBe('en_US.utf8\n');
    // Over TCP from another container, with the password (scram-sha-256), as an application connects.
    expect(
      await sh(
        "docker run --rm --network container:cat-pg -e PGPASSWORD=secret postgres psql -h 127.0.0.1 -U postgres -tAc 'select 2'",
      ),
    ).toBe('2\n');
    const logs = await sh('docker logs cat-pg 2>&1');
    expect(logs).toContain('PostgreSQL init process complete; ready for start up.');
    expect(logs).toMatch(/listening on IPv4 address "0\.0\.0\.0", port 5432/);
    expect(await sh("docker exec cat-pg sh -c 'stat -c %U /proc/1; echo $PGDATA'")).toBe(
      'postgres\n/var/lib/postgresql/data\n',
    );

    const refused = await rt.exec(ID, ['docker', 'run', '--rm', 'postgres'], { timeoutMs: 120_000 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Error: Database is uninitialized and superuser password is not specified.');
    expect(refused.stderr).toContain('You must specify POSTGRES_PASSWORD to a non-empty value for the');
    expect(refused.stderr).toContain('"POSTGRES_HOST_AUTH_METHOD=trust"');
  });

  it('mariadb and mysql: with a root password, select 1 answers; a user and a database are made on request', async () => {
    await sh(
      'docker run -d --name cat-maria -e MARIADB_ROOT_PASSWORD=rootpw -e MARIADB_DATABASE=app -e MARIADB_USER=bob -e MARIADB_PASSWORD=bobpw mariadb >/dev/null',
    );
    await sh('docker run -d --name cat-mysql -e MYSQL_ROOT_PASSWORD=rootpw mysql >/dev/null');
    expect(await eventually("docker exec cat-maria mariadb -uroot -prootpw -N -e 'select 1'", 120)).toBe('1');
    expect(await eventually("docker exec cat-mysql mysql -uroot -prootpw -N -e 'select 1'", 120)).toBe('1');
    expect(await sh("docker exec cat-maria mariadb -ubob -pbobpw -h 127.0.0.1 app -N -e 'select database()'")).toBe(
      'app\n',
    );
    // Port 3306 on every address: root over TCP from another container, as an application connects.
    expect(
      await sh(
        "docker run --rm --network container:cat-mysql mysql mysql -h 127.0.0.1 -uroot -prootpw -N -e 'select 3'",
      ),
    ).toBe('3\n');
    expect(await sh('docker logs cat-maria 2>&1')).toMatch(/ready for connections/);
    const refused = await rt.exec(ID, ['docker', 'run', '--rm', 'mariadb'], { timeoutMs: 120_000 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Database is uninitialized and password option is not specified');
  });

  it('httpd: the default page says "It works!" and the request is in docker logs', async () => {
    await sh('docker run -d --name cat-httpd -p 8081:80 httpd >/dev/null');
    expect(await eventually('curl -fsS http://127.0.0.1:8081/')).toBe('<html><body><h1>It works!</h1></body></html>');
    expect(await sh('docker logs cat-httpd 2>/dev/null')).toMatch(/"GET \/ HTTP\/1\.1" 200/);
  });

  it('debian: trixie-slim and latest are Debian 13, bookworm-slim is 12', async () => {
    const version = (tag: string) => sh(`docker run --rm debian:${tag} sh -c '. /etc/os-release; echo $VERSION_ID'`);
    expect(await version('trixie-slim')).toBe('13\n');
    expect(await version('latest')).toBe('13\n');
    expect(await version('bookworm')).toBe('12\n');
    expect(await version('bookworm-slim')).toBe('12\n');
  });
});
