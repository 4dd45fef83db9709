// The errors a learner can meet, each with its message and its way forward: a dropped connection,
// a full machine (queue position), a sandbox that reached its lifetime (start again, progress kept), and
// a network past its limits (when to try again).
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startServer } from '../../server/test/support/server';

const terminalText = (page: Page) => page.locator('#panel-term-1 .xterm-rows');
const ready = (page: Page) => page.locator('[data-testid=terminal][data-ready=true]');

async function typeInTerminal(page: Page, text: string) {
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type(text);
}

/** A TCP proxy in front of the server whose connections the test can cut, like a network drop. */
async function cuttableProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      down = false;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

test('a dropped connection shows a banner and comes back to the same terminal', async ({ browser, baseURL }) => {
  const proxy = await cuttableProxy(new URL(baseURL!));
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${proxy.url}/lessons/Docker_Intro`);
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  const terminalId = await page.getByTestId('terminal').getAttribute('data-terminal-id');
  await typeInTerminal(page, 'echo before-$((20+1))\n');
  await expect(terminalText(page)).toContainText('before-21');

  proxy.cut();
  await expect(page.getByRole('alert').filter({ hasText: 'Connection lost' })).toBeVisible();
  proxy.restore();
  await expect(page.getByRole('alert').filter({ hasText: 'Connection lost' })).toHaveCount(0, { timeout: 20_000 });

  await expect(page.getByTestId('terminal')).toHaveAttribute('data-terminal-id', terminalId!);
  await expect(terminalText(page)).toContainText('before-21');
  await typeInTerminal(page, 'echo after-$((40+2))\n');
  await expect(terminalText(page)).toContainText('after-42');
  await context.close();
  await proxy.close();
});

test('a server killed (kill -9) and started again: a banner, then the same terminal with what ran meanwhile, no reload', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-restart-'));
  const env = {
    DOCKSIDE_DATA_DIR: process.env.E2E_DATA_DIR ?? '/var/lib/dockside',
    DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
    DOCKSIDE_POOL_SIZE: '0',
    DOCKSIDE_KEEP_SANDBOXES: '1',
  };
  let server = await startServer(env);
  try {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${server.url}/lessons/Docker_Intro`);
    await expect(ready(page)).toBeVisible({ timeout: 60_000 });
    const terminalId = await page.getByTestId('terminal').getAttribute('data-terminal-id');
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    await typeInTerminal(page, 'for i in 1 2 3 4 5 6; do echo tick-$i; sleep 0.5; done; echo done-$((30+3))\n');
    await expect(terminalText(page)).toContainText('tick-1');

    process.kill(server.serverPid(), 'SIGKILL');
    await server.stop();
    await expect(page.getByRole('alert').filter({ hasText: 'Connection lost' })).toBeVisible();
    server = await startServer({ ...env, PORT: new URL(server.url).port });
    await expect(page.getByRole('alert').filter({ hasText: 'Connection lost' })).toHaveCount(0, { timeout: 30_000 });

    await expect(page.getByTestId('terminal')).toHaveAttribute('data-terminal-id', terminalId!);
    await expect(terminalText(page)).toContainText('done-33', { timeout: 20_000 });
    await typeInTerminal(page, 'echo again-$((40+4))\n');
    await expect(terminalText(page)).toContainText('again-44');
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    await context.close();
  } finally {
    await server.stop();
    // This server kept its sandboxes on purpose; one that does not ends them.
    await (await startServer({ ...env, DOCKSIDE_KEEP_SANDBOXES: '0' })).stop();
  }
});

test('a full machine queues the learner with their position; an ended sandbox starts again with progress kept', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-full-'));
  const server = await startServer({
    DOCKSIDE_DATA_DIR: process.env.E2E_DATA_DIR ?? '/var/lib/dockside',
    DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
    DOCKSIDE_POOL_SIZE: '0',
    DOCKSIDE_MAX_SANDBOXES: '1',
    DOCKSIDE_MAX_LIFETIME_MINUTES: '1',
  });
  try {
    const ana = await (await browser.newContext({ locale: 'en-US' })).newPage();
    await ana.goto(`${server.url}/lessons/Docker_Intro`);
    await expect(ready(ana)).toBeVisible({ timeout: 60_000 });
    await ana.getByRole('button', { name: 'Run in the terminal: docker version' }).click();
    await expect(ana.locator('article.step')).toHaveAttribute('data-status', 'passed');

    const ben = await (await browser.newContext({ locale: 'ko-KR' })).newPage();
    await ben.goto(`${server.url}/lessons/Docker_Intro`);
    await expect(ben.getByRole('status').filter({ hasText: '대기 순서 1번' })).toBeVisible();

    // Ana's sandbox reaches its one-minute lifetime: she is told, and Ben gets the seat by himself.
    await expect(ana.getByRole('alert').filter({ hasText: 'Your sandbox has ended' })).toBeVisible({
      timeout: 120_000,
    });
    await expect(ready(ben)).toBeVisible({ timeout: 60_000 });

    // Ana starts again: the machine is full now, so she waits her turn; her progress is still there.
    await ana.getByRole('button', { name: 'Start a new sandbox' }).click();
    await expect(ana.getByRole('status').filter({ hasText: 'you are number 1 in the queue' })).toBeVisible();
    await expect(ana.locator('article.step')).toHaveAttribute('data-status', 'passed');
    await ana.reload();
    await expect(ana.getByText('1 of 13 steps done')).toBeVisible();
  } finally {
    await server.stop();
  }
});

test('one network past its limits is told on the lesson page when to try again, in its language', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-limits-'));
  const server = await startServer({
    DOCKSIDE_DATA_DIR: process.env.E2E_DATA_DIR ?? '/var/lib/dockside',
    DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
    DOCKSIDE_POOL_SIZE: '0',
    DOCKSIDE_MAX_SANDBOXES_PER_ADDRESS: '1',
    DOCKSIDE_SANDBOX_STARTS_PER_HOUR: '2',
  });
  try {
    const ana = await (await browser.newContext({ locale: 'en-US' })).newPage();
    await ana.goto(`${server.url}/lessons/Docker_Intro`);
    await expect(ready(ana)).toBeVisible({ timeout: 60_000 });

    // A second learner from the same address: the address has its one self-paced sandbox.
    const ben = await (await browser.newContext({ locale: 'ko-KR' })).newPage();
    await ben.goto(`${server.url}/lessons/Docker_Intro`);
    await expect(
      ben.getByRole('alert').filter({ hasText: '이 네트워크에서 쓸 수 있는 샌드박스가 모두 사용 중입니다' }),
    ).toBeVisible();
    await expect(ben.getByRole('alert').filter({ hasText: /\d+분 후에 다시 시도하세요/ })).toBeVisible();

    // Ana resets once (her second start), then once too often: told when, and her sandbox stays.
    const reset = async () => {
      await ana.getByRole('button', { name: 'Reset sandbox' }).click();
      await ana.getByRole('button', { name: 'Yes, reset' }).click();
    };
    await reset();
    await expect(ready(ana)).toBeVisible({ timeout: 60_000 });
    await reset();
    await expect(
      ana.getByRole('alert').filter({ hasText: 'Too many sandboxes were started or reset from your network' }),
    ).toBeVisible();
    await expect(ana.getByRole('alert').filter({ hasText: /Try again in \d+ min\./ })).toBeVisible();
    await ana.getByRole('button', { name: 'Try again' }).click();
    await expect(ready(ana)).toBeVisible({ timeout: 60_000 });
  } finally {
    await server.stop();
  }
});
