import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseEnv, parseSize } from './config';
import { DEFAULT_ADMISSION } from './engine/admission';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'dockside-config-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('configuration', () => {
  it('has sensible defaults', () => {
    const c = parseEnv({});
    expect(c.port).toBe(3000);
    expect(c.dataDir).toBe('/var/lib/dockside');
    expect(c.database).toEqual({ provider: 'sqlite', url: 'file:/var/lib/dockside/server/dockside.db' });
    expect(c.pool.size).toBe(2);
    expect(c.limits.memoryBytes).toBe(1024 ** 3);
    expect(c.keepSandboxes).toBe(true);
  });

  it('limits what one address may start, trusting no proxy unless told', () => {
    expect(parseEnv({}).admission).toEqual(DEFAULT_ADMISSION);
    expect(DEFAULT_ADMISSION.trustedProxies).toBe(0);
    expect(
      parseEnv({
        DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS: '40',
        DOCKSIDE_SANDBOX_STARTS_PER_HOUR: '100',
        DOCKSIDE_NEW_LEARNERS_PER_HOUR: '300',
        DOCKSIDE_TRUSTED_PROXIES: '1',
      }).admission,
    ).toEqual({ sandboxesPerAddress: 40, startsPerHour: 100, newLearnersPerHour: 300, trustedProxies: 1 });
    expect(() => parseEnv({ DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS: '0' })).toThrowError(
      new ConfigError('DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS="0" is invalid: expected a whole number ≥ 1'),
    );
    expect(() => parseEnv({ DOCKSIDE_TRUSTED_PROXIES: 'yes' })).toThrow(/^DOCKSIDE_TRUSTED_PROXIES="yes" is invalid/);
  });

  it('names the variable and what it allows in one line', () => {
    expect(() => parseEnv({ PORT: 'abc' })).toThrowError(
      new ConfigError('PORT="abc" is invalid: expected a port number from 1 to 65535'),
    );
    expect(() => parseEnv({ DATABASE_URL: 'mysql://db/x' })).toThrowError(
      /^DATABASE_URL="mysql:\/\/db\/x" is invalid: expected a file:PATH \(SQLite\) or postgres:\/\/… URL$/,
    );
    expect(() => parseEnv({ DOCKSIDE_SANDBOX_MEMORY: 'lots' })).toThrowError(/^DOCKSIDE_SANDBOX_MEMORY="lots".*512M/);
    expect(() => parseEnv({ DOCKSIDE_DATA_DIR: 'relative/dir' })).toThrowError(/an absolute path/);
    expect(() => parseEnv({ DOCKSIDE_KEEP_SANDBOXES: 'yes' })).toThrowError(/0 or 1/);
  });

  it('serves previews on their own origin, *.preview.localhost on the same port unless told otherwise', () => {
    expect(parseEnv({ PORT: '3199' }).previewOrigin).toEqual({
      scheme: 'http',
      suffix: 'preview.localhost',
      port: 3199,
    });
    expect(parseEnv({ DOCKSIDE_PREVIEW_ORIGIN: 'https://*.Preview.Example.org' }).previewOrigin).toEqual({
      scheme: 'https',
      suffix: 'preview.example.org',
      port: null,
    });
    expect(parseEnv({}).publicOrigin).toBeNull();
    expect(parseEnv({ DOCKSIDE_PUBLIC_URL: 'https://dockside.example.org/' }).publicOrigin).toBe(
      'https://dockside.example.org',
    );
    for (const bad of ['https://preview.example.org', 'https://*.example.org/path', 'ftp://*.example.org', '*.x.org'])
      expect(() => parseEnv({ DOCKSIDE_PREVIEW_ORIGIN: bad })).toThrowError(
        /^DOCKSIDE_PREVIEW_ORIGIN=.* is invalid: expected a wildcard origin such as https:\/\/\*\.preview\.example\.org/,
      );
    expect(() => parseEnv({ DOCKSIDE_PREVIEW_ORIGIN: 'http://*.preview.localhost:99999' })).toThrowError(
      /a port number/,
    );
    expect(() => parseEnv({ DOCKSIDE_PUBLIC_URL: 'https://dockside.example.org/lessons' })).toThrowError(
      /^DOCKSIDE_PUBLIC_URL=.* is invalid: expected the origin people open/,
    );
    expect(() => parseEnv({ DOCKSIDE_SETUP_CODE: 'short' })).toThrowError(/^DOCKSIDE_SETUP_CODE=/);
  });

  it('reads the origins that may frame /embed, and refuses anything that is not an origin in one line', () => {
    expect(parseEnv({}).embedOrigins).toEqual([]);
    expect(
      parseEnv({ DOCKSIDE_EMBED_ORIGINS: 'https://a.example, https://B.example:8443/,https://a.example' }).embedOrigins,
    ).toEqual(['https://a.example', 'https://b.example:8443']);
    for (const bad of [
      'a.example',
      'https://a.example/tutorial',
      'https://a.example,',
      '*',
      'ftp://a.example',
      "'self'",
    ])
      expect(() => parseEnv({ DOCKSIDE_EMBED_ORIGINS: bad }), bad).toThrowError(
        /^DOCKSIDE_EMBED_ORIGINS=.* is invalid: expected origins such as https:\/\/a\.example,https:\/\/b\.example/,
      );
  });

  it('recognises PostgreSQL URLs and sizes', () => {
    expect(parseEnv({ DATABASE_URL: 'postgres://u:p@h/db' }).database.provider).toBe('postgresql');
    expect(parseSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseEnv({ DOCKSIDE_SANDBOX_DISK: '2G' }).limits.diskBytes).toBe(2 * 1024 ** 3);
  });

  it('creates a missing data dir and keeps the generated session secret across starts', () => {
    const dataDir = path.join(tmp(), 'nested', 'data');
    const first = loadConfig({ DOCKSIDE_DATA_DIR: dataDir });
    expect(statSync(dataDir).isDirectory()).toBe(true);
    expect(first.sessionSecret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(path.join(dataDir, 'server', 'session-secret')).mode & 0o777).toBe(0o600);
    const second = loadConfig({ DOCKSIDE_DATA_DIR: dataDir });
    expect(second.sessionSecret).toBe(first.sessionSecret);
    expect(readFileSync(path.join(dataDir, 'server', 'session-secret'), 'utf8').trim()).toBe(first.sessionSecret);
    expect(loadConfig({ DOCKSIDE_DATA_DIR: dataDir, SESSION_SECRET: 'x'.repeat(40) }).sessionSecret).toBe(
      'x'.repeat(40),
    );
  });
});
