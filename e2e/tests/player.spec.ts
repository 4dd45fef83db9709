// Small things a newcomer hits in the lesson player: the step they are on, where a new step starts, and
// files the editor saves.
import { expect, test, type Page } from '@playwright/test';
import { loadLessons } from '@dockside/lessons';

const intro = loadLessons().find((l) => l.id === 'Docker_Intro')!;
const terminalText = (page: Page) => page.locator('#panel-term-1 .xterm-rows');
const ready = (page: Page) => page.locator('[data-testid=terminal][data-ready=true]');

test('switching language keeps the step the learner is on', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  await expect(page.getByRole('heading', { level: 2, name: intro.steps[0]!.title.en })).toBeVisible();
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  for (const step of intro.steps.slice(1, 4)) {
    await page.getByRole('button', { name: /^Next/ }).click();
    await expect(page.getByRole('heading', { level: 2, name: step.title.en })).toBeVisible();
  }
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(page.getByRole('heading', { level: 2, name: intro.steps[3]!.title.ko })).toBeVisible();
  await page.waitForTimeout(1000);
  await expect(page.getByRole('heading', { level: 2, name: intro.steps[3]!.title.ko })).toBeVisible();
  expect(new URL(page.url()).searchParams.get('step')).toBe(intro.steps[3]!.id);
  await context.close();
});

test('opening a lesson renders no other page meanwhile; its Dockside link still goes home', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  // A prefetch of another page (its server render) competes with the page's socket for the server.
  const pages: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).searchParams.has('_rsc')) pages.push(r.url());
  });
  await page.goto('/lessons/Docker_Intro');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  await page.waitForTimeout(1500);
  expect(pages).toEqual([]);
  await page.getByRole('link', { name: /^Dockside/ }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Dockside', level: 1 })).toBeVisible();
  await context.close();
});

test('opening a lesson asks for its sandbox in the socket’s address and handshake: no request waits for the connection', async ({
  browser,
}) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const sent: string[] = [];
  const received: string[] = [];
  const addresses: string[] = [];
  page.on('websocket', (ws) => {
    addresses.push(ws.url());
    ws.on('framesent', (f) => sent.push(String(f.payload)));
    ws.on('framereceived', (f) => received.push(String(f.payload)));
  });
  await page.goto('/lessons/Docker_Intro');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  // socket.io's connect packet carries the lesson's ensure with its first terminal; no event asks again.
  const connect = JSON.parse(sent.find((f) => f.startsWith('40'))!.slice(2)) as { ensure?: unknown };
  expect(connect.ensure).toMatchObject({ lessonId: 'Docker_Intro', terminal: { cols: expect.any(Number) } });
  expect(sent.filter((f) => f.includes('"sandbox:ensure"'))).toEqual([]);
  const answer = received.find((f) => f.startsWith('42["sandbox:ensured"'));
  expect(answer).toContain('"ok":true');
  // The socket's address names the lesson: the server starts on its sandbox as the connection opens.
  expect(addresses.map((a) => new URL(a).searchParams.get('lesson'))).toEqual(['Docker_Intro']);
  await context.close();
});

test('Next starts the new step at its top', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`/lessons/Docker_Intro?step=${intro.steps[0]!.id}`);
  const pane = page.locator('.lesson-pane');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  for (const step of intro.steps.slice(1, 4)) {
    // Next is at the end of the step: reaching it scrolls the pane down.
    await page.getByRole('button', { name: /^Next/ }).click();
    await expect(page.getByRole('heading', { level: 2, name: step.title.en })).toBeFocused();
    await expect.poll(() => pane.evaluate((el) => el.scrollTop)).toBe(0);
  }
  await context.close();
});

test('a file saved in the editor ends with a newline, so the next prompt is not glued to cat', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Layers');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  await page.getByRole('tab', { name: 'Editor' }).click();
  await page.getByRole('button', { name: 'app.py', exact: true }).click();
  const editor = page.locator('.monaco-editor .view-lines');
  await expect(editor).not.toBeEmpty();
  await editor.click();
  await page.keyboard.press('Control+a');
  await page.keyboard.insertText('print("hi")');
  await page.keyboard.press('Control+s');
  await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  await page.getByRole('tab', { name: 'Terminal 1' }).click();
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type('echo "lines-$(wc -l < /workspace/app.py)"\n');
  await expect(terminalText(page)).toContainText('lines-1');
  await context.close();
});

test('checks wait as pending until the learner tries something, then say what is missing', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`/lessons/Docker_Intro?step=${intro.steps[0]!.id}`);
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  const check = page.locator('article.step [data-check-id]').first();
  // The step's checks ran when it opened; nothing was tried yet, so nothing is red.
  await page.waitForTimeout(2000);
  await expect(check).toHaveAttribute('data-status', 'pending');
  await expect(page.locator('.check-hint')).toHaveCount(0);
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type('docker versio\n');
  await expect(check).toHaveAttribute('data-status', 'failed');
  await expect(page.locator('.check-hint')).toHaveText('Run the command shown in this step.');
  await page.keyboard.type('docker version\n');
  await expect(check).toHaveAttribute('data-status', 'passed');
  await context.close();
});

test('Run and Copy sit beside a long code line, not over its end', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Layers?step=layer-ids');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  const block = page.locator('.code-block').filter({ hasText: '.RootFS.Layers' }).first();
  await expect(block).toBeVisible();
  // The code's scrolling box ends where the buttons begin: no part of a line is drawn under them. (Measured
  // once the step's text has settled: a box read while React puts the step in place can be null.)
  await expect(async () => {
    const code = (await block.locator('pre').boundingBox())!;
    const actions = (await block.locator('.code-actions').boundingBox())!;
    expect(code.x + code.width).toBeLessThanOrEqual(actions.x + 0.5);
  }).toPass({ timeout: 10_000 });
  // And the line can be scrolled to its last character.
  const end = await block.locator('pre').evaluate((pre) => {
    pre.scrollLeft = pre.scrollWidth;
    const range = document.createRange();
    range.selectNodeContents(pre.querySelector('code')!);
    const rects = [...range.getClientRects()];
    return { textRight: Math.max(...rects.map((r) => r.right)), boxRight: pre.getBoundingClientRect().right };
  });
  expect(end.textRight).toBeLessThanOrEqual(end.boxRight);
  await context.close();
});

test('published-port links are in port order', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  await page.locator('#panel-term-1 textarea').focus();
  // 8080 first: the engine lists the newest container first.
  await page.keyboard.type('docker run -d -p 8080:80 nginx && docker run -d -p 9000:80 nginx && echo "two-$((1+1))"\n');
  await expect(terminalText(page)).toContainText('two-2', { timeout: 120_000 });
  const links = page.locator('.ports a');
  await expect(links).toHaveCount(2, { timeout: 30_000 });
  await expect(links).toHaveText(['Port 8080', 'Port 9000']);
  await context.close();
});
