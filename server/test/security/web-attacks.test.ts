// Attacks on Dockside's web surface through the real server, each named for the attack: taking the admin
// account of a fresh server, another origin's page using a learner's cookies through socket.io or the
// API, a learner's web server in a port preview reaching the app (cookies, service workers, the CSRF
// token), and opening someone else's preview. Port previews with real sandboxes are in the second part.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import type { SandboxView } from '@dockside/protocol';
import { busyboxTar } from '../support/images';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { openPreview, previewFetch, previewLink, previewUpgrade } from '../support/preview';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

const PASSWORD = 'correct horse battery';

/** Whether a socket.io connection with these headers gets in; the refusal's message when it does not. */
function socketIoAnswer(url: string, headers: Record<string, string>): Promise<'connected' | string> {
  const socket = connect(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: headers,
  });
  return new Promise((resolve) => {
    socket.on('connect', () => (socket.close(), resolve('connected')));
    socket.on('connect_error', (err) => (socket.close(), resolve(err.message)));
  });
}

/** The polling transport's first request (a plain GET a page's script can make): its status. */
async function pollingHandshake(url: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers });
  await res.body?.cancel();
  return res.status;
}

describe('attacks on the web surface, through the server', () => {
  let server: RunningServer;
  let previewHost: (sandbox: string, port: number) => string;

  beforeAll(async () => {
    // Its own data dir (no sandboxes needed) and no set-up code given: the server makes one and prints it.
    server = await startServer({ DOCKSIDE_SETUP_CODE: '' });
    const port = new URL(server.url).port;
    previewHost = (sandbox, p) => `http://${p}-${sandbox}.preview.localhost:${port}`;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('the first person to reach /instructor cannot make themselves the admin: no code, a wrong code, then the printed code once', async () => {
    // The log says where to go, with the code; the state dir keeps it for the server's user alone.
    const printed =
      /create the first one \(the admin\) at (http:\/\/\S+\/instructor\?setup=(\S+)) \(set-up code \2,/.exec(
        server.output(),
      );
    expect(printed, server.output()).not.toBeNull();
    const code = printed![2]!;
    const file = path.join(server.dataDir, 'server', 'setup-code');
    expect(readFileSync(file, 'utf8').trim()).toBe(code);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const eve = await Learner.join(server.url);
    expect(await (await eve.fetch('/api/instructors/setup')).json()).toEqual({ firstAccount: true });
    const signUp = (who: Learner, email: string, extra: Record<string, string>) =>
      who.fetch('/api/instructors/signup', { method: 'POST', json: { email, password: PASSWORD, ...extra } });

    const without = await signUp(eve, 'eve@example.com', {});
    expect(without.status).toBe(403);
    expect((await without.json()).error).toMatchObject({ code: 'setup_code_required' });
    for (const wrong of ['AAAA-BBBB-CCCC-DDDD', code.slice(0, -1), 'x'.repeat(100)]) {
      const res = await signUp(eve, 'eve@example.com', { setupCode: wrong });
      expect(res.status).toBe(403);
      expect((await res.json()).error).toMatchObject({ code: 'bad_setup_code' });
    }
    // Nor is an invitation a way around it.
    expect((await signUp(eve, 'eve@example.com', { invitation: 'made-up' })).status).toBe(403);

    const kim = await Learner.join(server.url);
    const admin = await signUp(kim, 'kim@example.com', { setupCode: code });
    expect(admin.status).toBe(200);
    expect(await admin.json()).toMatchObject({ email: 'kim@example.com', isAdmin: true });
    expect(() => statSync(file)).toThrow();
    const again = await signUp(eve, 'eve@example.com', { setupCode: code });
    expect(again.status).toBe(403);
    expect((await again.json()).error).toMatchObject({ code: 'invitation_required' });
    expect(await (await eve.fetch('/api/instructors/setup')).json()).toEqual({ firstAccount: false });
  });

  it('a page of another origin cannot open socket.io with the learner’s or the instructor’s cookie', async () => {
    const ana = await Learner.join(server.url);
    const own = { cookie: ana.cookie, origin: server.url };
    // The app's own page gets in (the learner namespace); /instructor then asks for an instructor.
    expect(await socketIoAnswer(server.url, own)).toBe('connected');
    expect(await socketIoAnswer(`${server.url}/instructor`, own)).toMatch(/sign in as an instructor/);
    expect(await socketIoAnswer(server.url, { cookie: ana.cookie })).toBe('connected'); // not a browser's

    for (const origin of ['http://evil.example', previewHost('sb-any', 8080), 'null']) {
      for (const ns of ['', '/instructor'])
        expect(await socketIoAnswer(`${server.url}${ns}`, { cookie: ana.cookie, origin })).toMatch(
          /cross-origin connections are refused|websocket error/,
        );
      // Long-polling is no transport here (WebSocket only, for replicas without sticky sessions): its plain
      // GET, which any page's script can make, gets nothing.
      expect(await pollingHandshake(server.url, { cookie: ana.cookie, origin })).toBe(400);
    }
    // A browser that says the request is another site's is refused even without an Origin.
    expect(await socketIoAnswer(server.url, { cookie: ana.cookie, 'sec-fetch-site': 'cross-site' })).toMatch(
      /cross-origin connections are refused|websocket error/,
    );
    expect(await socketIoAnswer(server.url, { cookie: ana.cookie, 'sec-fetch-site': 'same-origin' })).toBe('connected');
    expect(await pollingHandshake(server.url, { cookie: ana.cookie })).toBe(400);
  });

  it('a page of another origin, a port preview among them, gets nothing from the API with the learner’s cookie', async () => {
    const ana = await Learner.join(server.url);
    for (const origin of ['http://evil.example', previewHost('sb-any', 8080)]) {
      const session = await ana.fetch('/api/session', { headers: { origin } });
      expect(session.status).toBe(403);
      const body = await session.text();
      expect(body).toContain('cross_origin');
      expect(body).not.toContain(ana.csrf);
      expect(session.headers.get('access-control-allow-origin')).toBeNull();
      const write = await ana.fetch('/api/me', {
        method: 'PATCH',
        json: { displayName: 'pwned' },
        headers: { origin },
      });
      expect(write.status).toBe(403);
    }
    expect((await ana.fetch('/api/session', { headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403);
    const mine = await ana.fetch('/api/me', {
      method: 'PATCH',
      json: { displayName: 'Ana' },
      headers: { origin: server.url },
    });
    expect(mine.status).toBe(200);
  });

  it('pages carry a content security policy whose nonce is on every script, and cannot be framed or sniffed', async () => {
    const nonces = new Set<string>();
    for (const page of ['/', '/lessons/Docker_Intro', '/instructor', '/no-such-page']) {
      const res = await fetch(`${server.url}${page}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
      expect(nonce, `${page}: ${csp}`).toBeDefined();
      nonces.add(nonce!);
      expect(csp).toContain("'strict-dynamic'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const html = await res.text();
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag, page).toContain(`nonce="${nonce}"`);
    }
    expect(nonces.size).toBe(4); // a new one for every page
    const api = await fetch(`${server.url}/api/lessons`);
    expect(api.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('a preview host without its capability shows an HTML page that says so, in the learner’s language, and nothing of the app', async () => {
    const ana = await Learner.join(server.url);
    const host = previewHost('sb-nothere-0001', 8080);
    for (const p of ['/', '/api/session', '/instructor', '/socket.io/?EIO=4&transport=polling']) {
      const res = await previewFetch(server.url, `${host}${p}`, { cookie: ana.cookie });
      expect(res.status, p).toBe(403);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('data-preview-problem="closed"');
      expect(res.body).toContain('This preview opens from its learner’s lesson page');
      expect(res.body).toContain('Open ports');
      expect(res.body).not.toContain(ana.csrf);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const ko = await previewFetch(server.url, `${host}/`, {
      headers: { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.5' },
    });
    expect(ko.body).toContain('<html lang="ko">');
    expect(ko.body).toContain('이 미리보기는 해당 학습자의 레슨 페이지에서 열립니다');

    // A capability made up, or a real-looking one edited: not valid.
    const forged = await previewFetch(
      server.url,
      `${host}/__dockside/open?token=sb-nothere-0001.8080.${'a'.repeat(24)}.9999999999999.en.x.y`,
    );
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('data-preview-problem="forged"');
    expect(forged.headers['set-cookie']).toBeUndefined();
    // A name under the preview suffix that names no preview.
    const unknown = await previewFetch(server.url, `http://www.preview.localhost:${new URL(server.url).port}/`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('data-preview-problem="unknown"');
    // And websockets there are not Dockside's socket.io.
    expect((await previewUpgrade(server.url, `${host}/socket.io/?EIO=4&transport=websocket`, ana.cookie)).status).toBe(
      403,
    );
  });
});

type Seat = { learner: Learner; socket: LearnerSocket; sandbox: SandboxView; terminal: TerminalReader };

async function seat(url: string): Promise<Seat> {
  const learner = await Learner.join(url);
  const socket = learner.socket();
  const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
  if (!r.ok) throw new Error(r.error.message);
  const open = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
    sandboxId: r.value.id,
    cols: 120,
    rows: 30,
  });
  if (!open.ok) throw new Error(open.error.message);
  const terminal = new TerminalReader(socket, open.value.terminalId, open.value.scrollback);
  await terminal.waitFor('\x1b]633;A');
  return { learner, socket, sandbox: r.value, terminal };
}

// The learner's web server: a CGI answer with every header that could reach past its preview, and a
// websocket-style server whose handshake answer tries to set a cookie on the app's host.
const EVIL_CGI = `#!/bin/sh
printf 'Content-Type: text/html\\r\\n'
printf 'Set-Cookie: dockside_session=stolen; Path=/api; Domain=localhost\\r\\n'
printf 'Set-Cookie: theirs=1; Path=/\\r\\n'
printf 'Service-Worker-Allowed: /\\r\\n'
printf 'Clear-Site-Data: "cookies", "storage"\\r\\n'
printf 'Strict-Transport-Security: max-age=31536000; includeSubDomains\\r\\n'
printf 'Alt-Svc: h2=":443"\\r\\n'
printf 'X-Learner: kept\\r\\n'
printf '\\r\\n'
echo '<h1>evil page</h1>'
echo "cookie seen by the learner's server: [$HTTP_COOKIE]"
`;
const WS_SERVER = `#!/bin/sh
while read -r line; do
  line=$(echo "$line" | tr -d '\\r')
  [ -z "$line" ] && break
done
printf 'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n'
printf 'Set-Cookie: dockside_session=stolen; Domain=localhost; Path=/api\\r\\nX-Learner: kept\\r\\n\\r\\n'
exec cat
`;

describe.runIf(sandboxesAvailable())('attacks through a port preview, with real sandboxes', () => {
  let server: RunningServer;
  let ana: Seat;
  let ben: Seat;

  beforeAll(async () => {
    const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-web-attacks-'));
    server = await startServer({ DOCKSIDE_DATA_DIR: SHARED_DATA_DIR, DATABASE_URL: `file:${dbDir}/db.sqlite` });
    [ana, ben] = [await seat(server.url), await seat(server.url)];
    const rt = new NativeRuntime(SHARED_DATA_DIR);
    expect((await rt.exec(ana.sandbox.id, ['docker', 'import', '-', 'bb'], { stdin: busyboxTar() })).code).toBe(0);
    const put = async (p: string, content: string) => {
      const res = await ana.learner.fetch(`/api/sandboxes/${ana.sandbox.id}/file?path=${encodeURIComponent(p)}`, {
        method: 'PUT',
        json: { content },
      });
      expect(res.status, await res.clone().text()).toBe(200);
    };
    for (const dir of ['/workspace/site', '/workspace/site/cgi-bin'])
      await ana.learner.fetch(`/api/sandboxes/${ana.sandbox.id}/files`, {
        method: 'POST',
        json: { path: dir, type: 'dir' },
      });
    await put('/workspace/site/index.html', '<h1>hello from a sandbox</h1>\n');
    await put('/workspace/site/cgi-bin/evil', EVIL_CGI);
    await put('/workspace/site/ws.sh', WS_SERVER);
    ana.terminal.type(
      'chmod +x /workspace/site/cgi-bin/evil /workspace/site/ws.sh && ' +
        'docker run -d --name site -p 8080:80 -v /workspace/site:/www bb httpd -f -p 80 -h /www && ' +
        'docker run -d --name ws -p 8081:80 -v /workspace/site:/site bb nc -ll -p 80 -e /site/ws.sh && ' +
        'echo started-$((5+5))\r',
    );
    await ana.terminal.waitFor('started-10', 60_000);
  }, 240_000);

  afterAll(async () => {
    ana?.socket.close();
    ben?.socket.close();
    await server?.stop();
  });

  it('shows the owner’s published port at the preview’s own origin, never the app’s', async () => {
    const current = (await (await ana.learner.fetch('/api/sandboxes/current')).json()) as { sandbox: SandboxView };
    const port = new URL(server.url).port;
    expect(current.sandbox.ports).toContainEqual({
      port: 8080,
      container: 'site',
      url: `http://8080-${ana.sandbox.id}.preview.localhost:${port}/`,
    });
    const { cookie, location, setCookie } = await openPreview(ana.learner, ana.sandbox.id, 8080);
    expect(location).toBe('/');
    // Host-only (no Domain): only this preview's host gets it back.
    expect(setCookie).toMatch(/^dockside_preview=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/);
    const page = await previewFetch(server.url, `http://8080-${ana.sandbox.id}.preview.localhost:${port}/`, {
      cookie,
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('hello from a sandbox');
    const nothing = await previewFetch(server.url, `http://9999-${ana.sandbox.id}.preview.localhost:${port}/`, {
      cookie: (await openPreview(ana.learner, ana.sandbox.id, 9999)).cookie,
    });
    expect(nothing.status).toBe(502);
    expect(nothing.body).toContain('Nothing answers on port 9999 in your sandbox');
  });

  it('the learner’s server cannot set cookies, widen a service worker’s scope or clear site data through its answers', async () => {
    const url = (await previewLink(ana.learner, ana.sandbox.id, 8080)).replace(
      /\/__dockside\/open.*$/,
      '/cgi-bin/evil',
    );
    const { cookie } = await openPreview(ana.learner, ana.sandbox.id, 8080);
    const res = await previewFetch(server.url, url, { cookie: `${cookie}; ${ana.learner.cookie}; mine=1` });
    expect(res.status).toBe(200);
    expect(res.body).toContain('evil page');
    for (const h of ['set-cookie', 'service-worker-allowed', 'clear-site-data', 'strict-transport-security', 'alt-svc'])
      expect(res.headers[h], h).toBeUndefined();
    expect(res.headers['x-learner']).toBe('kept');
    // Dockside's cookies never reach the learner's server; the browser's others do.
    expect(res.body).toContain("cookie seen by the learner's server: [mine=1]");
    // Nor can it start a service worker at all.
    const sw = await previewFetch(server.url, url, { cookie, headers: { 'service-worker': 'script' } });
    expect(sw.status).toBe(403);
  });

  it('websockets through the preview reach the learner’s server, with its handshake answer filtered', async () => {
    const host = `http://8081-${ana.sandbox.id}.preview.localhost:${new URL(server.url).port}`;
    expect((await previewUpgrade(server.url, `${host}/echo`)).status).toBe(403);
    const { cookie } = await openPreview(ana.learner, ana.sandbox.id, 8081);
    const up = await previewUpgrade(server.url, `${host}/echo`, cookie);
    expect(up.status).toBe(101);
    expect(up.headers['set-cookie']).toBeUndefined();
    expect(up.headers['x-learner']).toBe('kept');
    const echoed = new Promise<string>((resolve) => up.socket!.once('data', (d: Buffer) => resolve(d.toString())));
    up.socket!.write('ping-through-the-preview\n');
    expect(await echoed).toContain('ping-through-the-preview');
    up.socket!.destroy();
  });

  it('another learner cannot open a learner’s preview: no link from the app, no way in without one', async () => {
    const port = new URL(server.url).port;
    const anaSite = `http://8080-${ana.sandbox.id}.preview.localhost:${port}/`;
    const asked = await ben.learner.fetch(`/api/sandboxes/${ana.sandbox.id}/previews/8080`, { method: 'POST' });
    expect(asked.status).toBe(403);
    expect(await asked.text()).not.toContain('token');
    // Without CSRF token (another site making Ana's browser ask): refused too.
    const csrfless = await fetch(`${server.url}/api/sandboxes/${ana.sandbox.id}/previews/8080`, {
      method: 'POST',
      headers: { cookie: ana.learner.cookie },
    });
    expect(csrfless.status).toBe(403);

    const bare = await previewFetch(server.url, anaSite, { cookie: ben.learner.cookie });
    expect(bare.status).toBe(403);
    expect(bare.body).toContain('data-preview-problem="closed"');
    expect(bare.body).not.toContain('hello from a sandbox');
    // Ben's own preview cookie is for his own preview's host, and says so nowhere else.
    const bens = await openPreview(ben.learner, ben.sandbox.id, 8080);
    const withBens = await previewFetch(server.url, anaSite, { cookie: bens.cookie });
    expect(withBens.status).toBe(403);
    expect(withBens.body).not.toContain('hello from a sandbox');
    // Nor can Ben's page shadow Ana's cookie with his (set from script for every preview host): hers still opens.
    const anas = await openPreview(ana.learner, ana.sandbox.id, 8080);
    const both = await previewFetch(server.url, anaSite, { cookie: `${bens.cookie}; ${anas.cookie}` });
    expect(both.status).toBe(200);
    expect(both.body).toContain('hello from a sandbox');
    // A link made for Ben, for his sandbox, edited to name Ana's: not valid.
    const link = new URL(await previewLink(ben.learner, ben.sandbox.id, 8080));
    const token = link.searchParams.get('token')!.replace(ben.sandbox.id, ana.sandbox.id);
    const edited = await previewFetch(server.url, `${anaSite}__dockside/open?token=${encodeURIComponent(token)}`);
    expect(edited.status).toBe(403);
    expect(edited.body).toContain('data-preview-problem="forged"');
  });

  it('a used or edited capability link is refused with an HTML page, in the learner’s language', async () => {
    const link = await previewLink(ana.learner, ana.sandbox.id, 8080);
    expect((await previewFetch(server.url, link)).status).toBe(303);
    const reused = await previewFetch(server.url, link);
    expect(reused.status).toBe(403);
    expect(reused.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reused.body).toContain('data-preview-problem="expired"');
    expect(reused.body).toContain('This preview link has expired');
    expect(reused.headers['set-cookie']).toBeUndefined();

    // Ana chose Korean: the link carries it, so the page that refuses it is in Korean.
    const korean = await Learner.join(server.url, `${ana.learner.cookie}; dockside_lang=ko`);
    const koLink = await previewLink(korean, ana.sandbox.id, 8080);
    await previewFetch(server.url, koLink);
    const koReused = await previewFetch(server.url, koLink);
    expect(koReused.body).toContain('이 미리보기 링크는 만료되었습니다');

    const tampered = link.replace(/token=([^&]+)/, (_m, t: string) => `token=${t.slice(0, -2)}xx`);
    const forged = await previewFetch(server.url, tampered);
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('data-preview-problem="forged"');
  });
});
