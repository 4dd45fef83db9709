// Tutorials elsewhere, in a real browser: a tutorial page on another origin that the operator allows
// (DOCKSIDE_EMBED_ORIGINS, set in playwright.config.ts) embeds a working terminal on the learner's own
// sandbox and progress; a page on an origin not allowed is refused by the browser; /try links land in the
// right place on the site.
import { createServer, type Server } from 'node:http';
import { expect, test, type Frame, type FrameLocator, type Page } from '@playwright/test';

const ALLOWED_PORT = Number(process.env.E2E_EMBEDDER_PORT);
const REFUSED_PORT = ALLOWED_PORT + 1;
let sites: Server[] = [];

/** The tutorial page an author writes, with the snippet from docs/embedding.md (`frame`: another page). */
const tutorial = (app: string, embed: string, frame?: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A Docker tutorial</title></head>
<body>
<h1>Learn Docker somewhere else</h1>
<iframe src="${app}${frame ?? `/embed?${embed}`}" title="Dockside sandbox" width="900" height="560"
  style="border: 1px solid #ccc; border-radius: 8px" allow="clipboard-read; clipboard-write"></iframe>
<p><a href="${app}/try?${embed}" target="_blank" rel="noopener">Open in Dockside</a></p>
</body></html>`;

test.beforeAll(async ({ baseURL }) => {
  // Both tutorial sites are on localhost, the app on 127.0.0.1: another site, so the browser sends the
  // frame none of the app's SameSite=Lax cookies, as it would for any real tutorial site.
  sites = await Promise.all(
    [ALLOWED_PORT, REFUSED_PORT].map(
      (port) =>
        new Promise<Server>((resolve) => {
          const s = createServer((req, res) => {
            const q = new URL(req.url ?? '/', 'http://x').searchParams;
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
            res.end(tutorial(baseURL!, q.get('embed') ?? 'lesson=Docker_Intro', q.get('frame') ?? undefined));
          });
          s.listen(port, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
});
test.afterAll(async () => {
  await Promise.all(sites.map((s) => new Promise((r) => s.close(r))));
});

const ready = (where: Page | FrameLocator) => where.locator('[data-testid=terminal][data-ready=true]');
const terminalText = (where: Page | FrameLocator) => where.locator('#panel-term-1 .xterm-rows');

async function typeInTerminal(page: Page, where: Page | FrameLocator, text: string) {
  await where.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type(text);
}

test('an allowed site embeds a working terminal on the learner’s own sandbox and progress', async ({
  browser,
  baseURL,
}) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(
    `http://localhost:${ALLOWED_PORT}/?embed=${encodeURIComponent('lesson=Docker_Intro&step=engine-info&editor=1')}`,
  );
  const frame = page.frameLocator('iframe[title="Dockside sandbox"]');
  // Framed, the browser sends none of the site's cookies: the embed asks to connect first.
  await expect(frame.getByRole('button', { name: 'Start the sandbox' })).toBeVisible();

  // One click: a first-party Dockside window opens, hands the session over and closes by itself.
  const popup = context.waitForEvent('page');
  await frame.getByRole('button', { name: 'Start the sandbox' }).click();
  const connect = await popup;
  expect(new URL(connect.url()).pathname).toBe('/embed/connect');
  await expect.poll(() => connect.isClosed()).toBe(true);

  // The step's title and its checks, and a terminal that works.
  await expect(frame.getByRole('heading', { name: /What the daemon knows/ })).toBeVisible();
  await expect(ready(frame)).toBeVisible({ timeout: 90_000 });
  await typeInTerminal(page, frame, 'echo hi\n');
  // A row of its own that says hi: the shell's answer, not the typed command.
  await expect(frame.locator('#panel-term-1 .xterm-rows > div').filter({ hasText: /^\s*hi\s*$/ })).toHaveCount(1);
  await typeInTerminal(
    page,
    frame,
    'echo "from-the-embed-$((6*7))" > /workspace/embedded.txt && docker info >/dev/null\n',
  );
  await expect(frame.locator('.embed-step[data-status=passed]')).toBeVisible({ timeout: 30_000 });
  // editor=1: the editor, in a tab, on the same files.
  await frame.getByRole('tab', { name: 'Editor' }).click();
  await frame.getByRole('button', { name: 'embedded.txt', exact: true }).click();
  await expect(frame.locator('.monaco-editor .view-lines')).toContainText('from-the-embed-42');

  // The site itself, in the same browser: the same sandbox (the file) and the same progress (the step).
  const site = await context.newPage();
  await site.goto(`${baseURL}/lessons/Docker_Intro?step=engine-info`);
  await expect(site.locator('article.step[data-status=passed]')).toBeVisible({ timeout: 30_000 });
  await expect(ready(site)).toBeVisible({ timeout: 60_000 });
  await typeInTerminal(site, site, 'cat /workspace/embedded.txt\n');
  await expect(terminalText(site)).toContainText('from-the-embed-42');

  // A reload of the tutorial needs no second click: the embed keeps its own (partitioned) cookie.
  await page.reload();
  await expect(ready(frame)).toBeVisible({ timeout: 60_000 });
  await expect(frame.getByRole('button', { name: 'Start the sandbox' })).toHaveCount(0);
  await context.close();
});

test('an embedded exercise opens with its starting state prepared in the learner’s sandbox', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(
    `http://localhost:${ALLOWED_PORT}/?embed=${encodeURIComponent('lesson=Docker_Intro&exercise=revive-web')}`,
  );
  const frame = page.frameLocator('iframe[title="Dockside sandbox"]');
  await frame.getByRole('button', { name: 'Start the sandbox' }).click();
  await expect(frame.getByRole('heading', { name: /Bring a broken web server back/ })).toBeVisible();
  await expect(frame.locator('.embed-step[data-phase=ready]')).toBeVisible({ timeout: 120_000 });
  await expect(frame.getByRole('region', { name: 'Checks' })).toBeVisible();
  await expect(ready(frame)).toBeVisible({ timeout: 60_000 });
  await typeInTerminal(page, frame, "docker ps -a --format 'state-of-{{.Names}}: {{.State}}'\n");
  await expect(terminalText(frame)).toContainText('state-of-web: exited');
  await context.close();
});

test('a site the operator did not list cannot frame Dockside: the browser refuses', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const refusals: string[] = [];
  page.on('console', (msg) => {
    if (/frame-ancestors/.test(msg.text())) refusals.push(msg.text());
  });
  await page.goto(`http://localhost:${REFUSED_PORT}/?embed=${encodeURIComponent('images=busybox')}`);
  await expect.poll(() => refusals.length, { timeout: 15_000 }).toBeGreaterThan(0);
  expect(refusals[0]).toContain(`http://localhost:${ALLOWED_PORT}`);
  // The frame stays empty: nothing of Dockside rendered in it.
  const framed = page.frames().find((f: Frame) => f !== page.mainFrame())!;
  await expect.poll(async () => framed.locator('button').count()).toBe(0);
  expect(await framed.evaluate(() => document.body?.innerText ?? '').catch(() => '')).not.toContain('Dockside');

  // Nor can an allowed site frame any page but /embed.
  const lessonRefusals: string[] = [];
  page.on('console', (msg) => {
    if (/frame-ancestors 'none'/.test(msg.text())) lessonRefusals.push(msg.text());
  });
  await page.goto(`http://localhost:${ALLOWED_PORT}/?frame=${encodeURIComponent('/lessons/Docker_Intro')}`);
  await expect.poll(() => lessonRefusals.length, { timeout: 15_000 }).toBeGreaterThan(0);
  await context.close();
});

test('“Open in Dockside” links land on the step, and on a plain sandbox with the images pulled', async ({
  browser,
  baseURL,
}) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  // The link under the tutorial's embed.
  await page.goto(
    `http://localhost:${ALLOWED_PORT}/?embed=${encodeURIComponent('lesson=Docker_Intro&step=hello-world')}`,
  );
  const opened = context.waitForEvent('page');
  await page.getByRole('link', { name: 'Open in Dockside' }).click();
  const lesson = await opened;
  await lesson.waitForURL(`${baseURL}/lessons/Docker_Intro?step=hello-world`);
  await expect(lesson.getByRole('heading', { name: 'Hello, world', level: 2 })).toBeVisible();

  // images=: a plain sandbox page on the site, the images pulled where the learner sees it.
  await lesson.goto(`${baseURL}/try?images=busybox`);
  await expect(lesson).toHaveURL(`${baseURL}/embed?images=busybox`);
  await expect(lesson.getByText('Sandbox with busybox')).toBeVisible();
  await expect(ready(lesson)).toBeVisible({ timeout: 90_000 });
  await expect(terminalText(lesson)).toContainText(/Status: (Downloaded newer image|Image is up to date) for busybox/, {
    timeout: 60_000,
  });

  // A bad link: a page that says what is wrong.
  const bad = await lesson.goto(`${baseURL}/try?lesson=Docker_Intro&step=no-such-step`);
  expect(bad!.status()).toBe(400);
  await expect(lesson.getByRole('alert')).toHaveText(
    /^lesson Docker_Intro has no step no-such-step; its steps are your-engine, /,
  );
  await context.close();
});
