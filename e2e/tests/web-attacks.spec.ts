// Attacks on the web surface in the real browser, each named for the attack: a learner's web server in a
// port preview trying to take over the app (a service worker over it, its CSRF token, its cookies), other
// learners opening someone's preview, forged and used preview links; and the app's pages running under
// their content security policy with nothing refused.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';

const ready = (page: Page) => page.locator('[data-testid=terminal][data-ready=true]');
const terminal = (page: Page) => page.locator('#panel-term-1 .xterm-rows');

async function typeInTerminal(page: Page, text: string) {
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type(text);
}

/** A call to the app's API from its own page, as the app's scripts make them (CSRF token and all). */
function appApi<T>(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const { csrfToken } = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const res = await fetch(path, {
        method,
        headers: { 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json().catch(() => null)) as T };
    },
    { method, path, body },
  );
}

/** The learner's site: a page that attacks the app, and CGI answers with the headers that would help it. */
function attackSite(app: string) {
  const page = `<!doctype html>
<meta charset="utf-8">
<title>attack</title>
<pre id="out">running</pre>
<script>
(async () => {
  const app = ${JSON.stringify(app)};
  const out = {};
  const attempt = async (name, f) => {
    try { out[name] = 'ok: ' + (await f()); } catch (e) { out[name] = 'refused: ' + e; }
  };
  // A service worker over the whole origin, its scope widened by the script's answer.
  await attempt('sw-root', () => navigator.serviceWorker.register('cgi-bin/sw', { scope: '/' }).then((r) => r.scope));
  // One over the app itself.
  await attempt('sw-app', () => navigator.serviceWorker.register(app + '/sw.js', { scope: app + '/' }).then((r) => r.scope));
  // The app's session and CSRF token, from this origin and from the app's.
  await attempt('session-here', () => fetch('/api/session', { credentials: 'include' }).then((r) => r.text()));
  await attempt('session-app', () => fetch(app + '/api/session', { credentials: 'include' }).then((r) => r.text()));
  // The app's session cookie, shadowed for its API: set by an answer, and by script.
  await attempt('cookie-answer', () => fetch('cgi-bin/cookie').then((r) => r.text()));
  document.cookie = 'dockside_session=tossed; Path=/api; Domain=localhost';
  document.cookie = 'dockside_session=tossed; Path=/api';
  out.done = true;
  document.getElementById('out').textContent = JSON.stringify(out);
})();
</script>
`;
  const sw = `#!/bin/sh
printf 'Content-Type: text/javascript\\r\\nService-Worker-Allowed: /\\r\\n\\r\\n'
echo "self.addEventListener('fetch', (e) => e.respondWith(new Response('taken over')));"
`;
  const cookie = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n'
printf 'Set-Cookie: dockside_session=stolen; Path=/api; Domain=localhost\\r\\n'
printf 'Set-Cookie: dockside_session=stolen; Path=/api\\r\\n'
printf 'Service-Worker-Allowed: /\\r\\n\\r\\n'
echo cookies-sent
`;
  return {
    '/workspace/site/index.html': page,
    '/workspace/site/cgi-bin/sw': sw,
    '/workspace/site/cgi-bin/cookie': cookie,
  };
}

/** Starts the learner's web server on port 8080 in their sandbox; its preview link appears in the header. */
async function serveSite(page: Page, files: Record<string, string>) {
  for (const dir of ['/workspace/site', '/workspace/site/cgi-bin'])
    await appApi(page, 'POST', `/api/sandboxes/${await sandboxId(page)}/files`, { path: dir, type: 'dir' });
  for (const [p, content] of Object.entries(files)) {
    const put = await appApi(
      page,
      'PUT',
      `/api/sandboxes/${await sandboxId(page)}/file?path=${encodeURIComponent(p)}`,
      {
        content,
      },
    );
    expect(put.status).toBe(200);
  }
  await typeInTerminal(
    page,
    'chmod +x /workspace/site/cgi-bin/* && docker run -d --name site -p 8080:80 -v /workspace/site:/www busybox httpd -f -p 80 -h /www && echo site-$((40+2))\n',
  );
  await expect(terminal(page)).toContainText('site-42', { timeout: 120_000 });
}

const sandboxId = async (page: Page) =>
  (await appApi<{ sandbox: { id: string } }>(page, 'GET', '/api/sandboxes/current')).json.sandbox.id;

async function openPortLink(context: BrowserContext, page: Page, name: string): Promise<Page> {
  const link = page.getByRole('link', { name });
  await expect(link).toBeVisible({ timeout: 30_000 });
  const [popup] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await popup.waitForLoadState();
  return popup;
}

test('a learner’s preview page cannot register a service worker over the app, read its CSRF token or set its cookies', async ({
  browser,
  baseURL,
}) => {
  // The app at localhost, the preview at *.preview.localhost: as close as the two origins ever are.
  const app = baseURL!.replace('127.0.0.1', 'localhost');
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(`${app}/lessons/Docker_Intro`);
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  const before = (await appApi<{ learnerId: string; csrfToken: string }>(page, 'GET', '/api/session')).json;
  const sessionCookie = async () =>
    (await context.cookies(`${app}/api/session`)).filter((c) => c.name === 'dockside_session').map((c) => c.value);
  const cookieBefore = await sessionCookie();
  expect(cookieBefore).toHaveLength(1);

  await serveSite(page, attackSite(app));
  const preview = await openPortLink(context, page, 'Port 8080');
  const id = await sandboxId(page);
  // The preview's own origin, at its clean address (the one-time link is gone from it).
  expect(preview.url()).toBe(`http://8080-${id}.preview.localhost:${new URL(app).port}/`);
  await expect(preview.locator('#out')).toContainText('"done":true', { timeout: 30_000 });
  const out = JSON.parse((await preview.locator('#out').textContent())!) as Record<string, string>;

  expect(out['sw-root']).toMatch(/^refused/);
  expect(out['sw-app']).toMatch(/^refused/);
  expect(out['session-app']).toMatch(/^refused/);
  // "/api/session" on the preview's origin is the learner's own server (busybox answers 404), not the app.
  expect(out['session-here']).not.toContain(before.csrfToken);
  expect(out['session-here']).not.toContain('csrfToken');
  expect(out['cookie-answer']).toBe('ok: cookies-sent\n');

  // The app: no service worker, the same one session cookie, the same learner, and it still works.
  expect(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length))).toBe(0);
  expect(await sessionCookie()).toEqual(cookieBefore);
  await page.reload();
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  expect(await page.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
  const after = (await appApi<{ learnerId: string }>(page, 'GET', '/api/session')).json;
  expect(after.learnerId).toBe(before.learnerId);
  await typeInTerminal(page, 'echo still-$((6*7))\n');
  await expect(terminal(page)).toContainText('still-42');
  // And the preview's origin has no service worker either.
  expect(await preview.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length))).toBe(0);

  // Another learner's page cannot open it: no link from the app, and the address alone shows why, in Korean
  // for a Korean browser.
  const other = await browser.newContext({ locale: 'ko-KR' });
  const ben = await other.newPage();
  await ben.goto('/');
  const asked = await appApi(ben, 'POST', `/api/sandboxes/${id}/previews/8080`);
  expect(asked.status).toBe(403);
  const refused = await ben.goto(preview.url());
  expect(refused?.status()).toBe(403);
  await expect(
    ben.getByRole('heading', { name: '이 미리보기는 해당 학습자의 레슨 페이지에서 열립니다' }),
  ).toBeVisible();
  await expect(ben.locator('body')).not.toContainText('"done"');

  // A link the owner already used, opened by someone else: expired (said in the owner's language, which the
  // link carries). One edited: not valid.
  const link = (await appApi<{ url: string }>(page, 'POST', `/api/sandboxes/${id}/previews/8080`)).json.url;
  const own = await context.newPage();
  await own.goto(link);
  await expect(own.locator('#out')).toContainText('"done":true', { timeout: 30_000 });
  expect((await ben.goto(link))?.status()).toBe(403);
  await expect(ben.getByRole('heading', { name: 'This preview link has expired' })).toBeVisible();
  await expect(ben.locator('body')).not.toContainText('"done"');
  const english = await (await browser.newContext({ locale: 'en-US' })).newPage();
  expect((await english.goto(link.replace(/.{4}$/, 'AAAA')))?.status()).toBe(403);
  await expect(english.getByRole('heading', { name: 'This preview link is not valid' })).toBeVisible();
  await expect(english.getByText('go back to your lesson page and click the port’s link')).toBeVisible();

  await english.context().close();
  await other.close();
  await context.close();
});

test('the lesson page, its editor and its Layers tab run under a content security policy with nothing refused', async ({
  browser,
}) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const refused: string[] = [];
  // Every refusal the policy makes is an event on the document and a console error.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { __refused?: string[] };
      (w.__refused ??= []).push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) refused.push(m.text());
  });
  const res = await page.goto('/lessons/Docker_Layers?step=first-build');
  const csp = (await res!.allHeaders())['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
  expect(csp).toContain("frame-ancestors 'none'");
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });

  // The editor: Monaco's AMD loader, its modules, styles, fonts and web workers.
  await page.getByRole('tab', { name: 'Editor' }).click();
  await page.getByRole('button', { name: 'Dockerfile', exact: true }).click();
  const editor = page.locator('.monaco-editor .view-lines');
  await expect(editor).toContainText('FROM python:3-slim');
  await page.getByRole('button', { name: 'app.py', exact: true }).click();
  await expect(editor).toContainText('print');
  // A worker-backed feature (the editor worker computes links and word ranges); give it time to start.
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => /worker/i.test(e.name)), {
    timeout: 30_000,
  });

  // The Layers tab.
  await page.getByRole('tab', { name: 'Layers' }).click();
  await expect(page.getByTestId('layers-empty').or(page.getByTestId('layers'))).toBeVisible();
  // The terminal, once more.
  await page.getByRole('tab', { name: 'Terminal 1' }).click();
  await typeInTerminal(page, 'echo csp-$((6*7))\n');
  await expect(terminal(page)).toContainText('csp-42');

  const events = await page.evaluate(() => (window as unknown as { __refused?: string[] }).__refused ?? []);
  expect(events).toEqual([]);
  expect(refused).toEqual([]);
  await context.close();
});
