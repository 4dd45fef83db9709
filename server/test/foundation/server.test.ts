import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain, startServer, type RunningServer } from '../support/server';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

async function newSession(): Promise<{ cookie: string; csrf: string; learnerId: string }> {
  const res = await fetch(`${server.url}/api/session`);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const body = (await res.json()) as { csrfToken: string; learnerId: string };
  return { cookie, csrf: body.csrfToken, learnerId: body.learnerId };
}

describe('one process, one port', () => {
  it('reports database and runtime readiness on /healthz', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    const health = (await res.json()) as { database: { ok: boolean; provider: string }; runtime: { ok: boolean } };
    expect(health.database).toEqual({ ok: true, provider: 'sqlite' });
    expect(typeof health.runtime.ok).toBe('boolean');
  });

  it('serves the Next.js home page with the lessons and a signed HttpOnly session cookie', async () => {
    const res = await fetch(`${server.url}/`, { headers: { 'accept-language': 'ko' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<html lang="ko"');
    expect(html).toContain('data-lesson-id="Docker_Intro"');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('dockside_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it("sends the page's scripts as the build compressed them (brotli, a length known up front), the same scripts", async () => {
    const html = await (await fetch(`${server.url}/lessons/Docker_Intro`)).text();
    const scripts = [...new Set(html.match(/\/_next\/static\/chunks\/[\w.~-]+\.js/g))];
    expect(scripts.length).toBeGreaterThan(3);
    for (const src of scripts) {
      const res = await fetch(`${server.url}${src}`, { headers: { 'accept-encoding': 'br' } });
      expect(res.status, src).toBe(200);
      expect(res.headers.get('content-encoding'), src).toBe('br');
      expect(Number(res.headers.get('content-length')), src).toBeGreaterThan(0);
      const plain = await fetch(`${server.url}${src}`, { headers: { 'accept-encoding': 'identity' } });
      expect(await res.text(), src).toBe(await plain.text());
    }
  });

  it('keeps an idle connection open past the 5 s a balancer or client may reuse it after', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; port: number }>((resolve, reject) => {
        const req = http.get(`${server.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, port: req.socket!.localPort! }));
        });
        req.on('error', reject);
      });
    try {
      const first = await get();
      await new Promise((r) => setTimeout(r, 6500));
      const second = await get();
      expect(second.status).toBe(200);
      expect(second.port, 'the same connection, reused').toBe(first.port);
    } finally {
      agent.destroy();
    }
  });

  it('serves the lesson catalogue as JSON', async () => {
    const lessons = (await (await fetch(`${server.url}/api/lessons`)).json()) as { id: string }[];
    expect(lessons.map((l) => l.id)).toEqual(expect.arrayContaining(['Docker_Intro', 'Docker_Layers']));
  });

  it('refuses state-changing requests without the session CSRF token', async () => {
    const { cookie, csrf } = await newSession();
    const patch = (headers: Record<string, string>, body: unknown) =>
      fetch(`${server.url}/api/me`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', cookie, ...headers },
        body: JSON.stringify(body),
      });
    const noToken = await patch({}, { displayName: 'Mina' });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe('csrf');
    const other = await newSession();
    expect((await patch({ 'x-csrf-token': other.csrf }, { displayName: 'Mina' })).status).toBe(403);

    const ok = await patch({ 'x-csrf-token': csrf }, { displayName: 'Mina' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { displayName: string }).displayName).toBe('Mina');
    const me = await (await fetch(`${server.url}/api/session`, { headers: { cookie } })).json();
    expect((me as { displayName: string }).displayName).toBe('Mina');
  });

  it('rejects bad input with a clear error and changes nothing', async () => {
    const { cookie, csrf } = await newSession();
    const res = await fetch(`${server.url}/api/me`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
      body: JSON.stringify({ displayName: 'x'.repeat(41) }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'invalid_request', message: 'displayName: at most 40 characters' },
    });
    const broken = await fetch(`${server.url}/api/me`, {
      method: 'PATCH',
      headers: { cookie, 'x-csrf-token': csrf },
      body: '{not json',
    });
    expect(broken.status).toBe(400);
    const me = (await (await fetch(`${server.url}/api/session`, { headers: { cookie } })).json()) as {
      displayName: null;
    };
    expect(me.displayName).toBeNull();
    expect((await fetch(`${server.url}/api/nope`)).status).toBe(404);
  });

  it('authenticates socket.io with the same session, and refuses connections without one', async () => {
    const anonymous = connect(server.url, { transports: ['websocket'], reconnection: false });
    const refusal = await new Promise<string>((resolve) => anonymous.on('connect_error', (e) => resolve(e.message)));
    expect(refusal).toMatch(/^unauthorized/);
    anonymous.close();

    const { cookie, learnerId } = await newSession();
    const socket = connect(server.url, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie } });
    const ready = await new Promise<{ learnerId: string }>((resolve) => socket.on('session:ready', resolve));
    expect(ready.learnerId).toBe(learnerId);
    socket.close();
  });
});

describe('start-up errors', () => {
  it('stops with one named line for PORT=abc', async () => {
    const r = await runMain({ PORT: 'abc' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('dockside: PORT="abc" is invalid: expected a port number from 1 to 65535');
  });

  it('stops with one named line for a bad DATABASE_URL', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-badurl-'));
    try {
      const scheme = await runMain({ DOCKSIDE_DATA_DIR: dataDir, DATABASE_URL: 'mysql://localhost/x' });
      expect(scheme.code).toBe(2);
      expect(scheme.stderr.trim().split('\n')).toHaveLength(1);
      expect(scheme.stderr).toMatch(/^dockside: DATABASE_URL="mysql:\/\/localhost\/x" is invalid/);

      const unreachable = await runMain({
        DOCKSIDE_DATA_DIR: dataDir,
        DATABASE_URL: 'postgres://dockside:secret@127.0.0.1:1/nowhere',
      });
      expect(unreachable.code).toBe(2);
      expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
      expect(unreachable.stderr).toMatch(
        /^dockside: DATABASE_URL=postgres:\/\/dockside:\*\*\*@127\.0\.0\.1:1\/nowhere: cannot migrate/,
      );
      expect(unreachable.stderr).not.toContain('secret');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('creates a missing data dir', async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'dockside-fresh-'));
    const dataDir = path.join(parent, 'a', 'b');
    const s = await startServer({ DOCKSIDE_DATA_DIR: dataDir });
    try {
      expect(statSync(path.join(dataDir, 'server', 'dockside.db')).isFile()).toBe(true);
    } finally {
      await s.stop();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
