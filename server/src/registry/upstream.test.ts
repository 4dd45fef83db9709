// DOCKSIDE_REGISTRY_UPSTREAM at start-up: a bad value is one line naming the variable; a password is
// never echoed; an unreachable upstream is described, not thrown.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config';
import { upstreamFromEnv, upstreamUnreachable } from './upstream';

describe('upstreamFromEnv', () => {
  it('is off unless set, and keeps only the origin of the URL', () => {
    expect(upstreamFromEnv({})).toBeNull();
    expect(upstreamFromEnv({ DOCKSIDE_REGISTRY_UPSTREAM: '' })).toBeNull();
    expect(upstreamFromEnv({ DOCKSIDE_REGISTRY_UPSTREAM: 'https://registry-1.docker.io/' })).toEqual({
      url: 'https://registry-1.docker.io',
    });
    expect(
      upstreamFromEnv({
        DOCKSIDE_REGISTRY_UPSTREAM: 'http://10.0.0.5:5000',
        DOCKSIDE_REGISTRY_UPSTREAM_USERNAME: 'site',
        DOCKSIDE_REGISTRY_UPSTREAM_PASSWORD: 's3cret',
      }),
    ).toEqual({ url: 'http://10.0.0.5:5000', username: 'site', password: 's3cret' });
  });

  it('refuses a bad URL or half a credential with one line, as a ConfigError', () => {
    for (const url of [
      'registry.example.org',
      'ftp://registry.example.org',
      'https://u:p@r.example.org',
      'https://r.example.org/v2/',
    ])
      expect(() => upstreamFromEnv({ DOCKSIDE_REGISTRY_UPSTREAM: url })).toThrowError(
        `DOCKSIDE_REGISTRY_UPSTREAM=${JSON.stringify(url)} is invalid: expected a registry URL such as https://registry-1.docker.io (http or https, no path, no credentials)`,
      );
    expect(() => upstreamFromEnv({ DOCKSIDE_REGISTRY_UPSTREAM: 'x' })).toThrow(ConfigError);
    let message = '';
    try {
      upstreamFromEnv({
        DOCKSIDE_REGISTRY_UPSTREAM: 'https://r.example.org',
        DOCKSIDE_REGISTRY_UPSTREAM_PASSWORD: 'hunter2',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'DOCKSIDE_REGISTRY_UPSTREAM_PASSWORD is invalid: expected both a username and a password, or neither',
    );
    expect(() =>
      upstreamFromEnv({ DOCKSIDE_REGISTRY_UPSTREAM_USERNAME: 'u', DOCKSIDE_REGISTRY_UPSTREAM_PASSWORD: 'p' }),
    ).toThrowError(/^DOCKSIDE_REGISTRY_UPSTREAM_USERNAME="u" is invalid: expected DOCKSIDE_REGISTRY_UPSTREAM set too/);
  });
});

describe('upstreamUnreachable', () => {
  it('says "connection refused" for a port nobody listens on, and null for a registry asking for a token', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="https://auth.example.org/token"' });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    expect(await upstreamUnreachable({ url: `http://127.0.0.1:${port}` })).toBeNull();
    await new Promise((r) => server.close(r));
    expect(await upstreamUnreachable({ url: `http://127.0.0.1:${port}` })).toBe('connection refused');
  });
});
