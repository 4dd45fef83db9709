// What a newcomer hits in the terminal: a reload replays the scrollback, and nothing in it may type into
// the shell.
import { expect, test, type Page } from '@playwright/test';

const terminalText = (page: Page) => page.locator('#panel-term-1 .xterm-rows');
const ready = (page: Page) => page.locator('[data-testid=terminal][data-ready=true]');

async function typeInTerminal(page: Page, text: string) {
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type(text);
}

test('a reload after a program asked for the cursor position types no junk into the shell', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  // As busybox sh does: ask for the cursor position and read the answer (it never reaches the prompt).
  await typeInTerminal(page, `printf '\\e[6n'; read -rs -d R pos; echo "asked-$((6*7))"\n`);
  await expect(terminalText(page)).toContainText('asked-42');

  // The query is in the scrollback each reload replays; its answer must not reach the shell.
  for (let i = 0; i < 2; i++) {
    await page.reload();
    await expect(terminalText(page)).toContainText('asked-42');
  }
  await expect(ready(page)).toBeVisible();
  await page.waitForTimeout(500);
  await typeInTerminal(page, 'echo "next-$((40+2))"\n');
  await expect(terminalText(page)).toContainText('next-42');
  await expect(terminalText(page)).not.toContainText('syntax error');
  await expect(terminalText(page)).not.toContainText(';1R');
  await context.close();
});

test('an underscore is drawn in the terminal (x86_64 does not read "x86 64")', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  await typeInTerminal(page, 'clear; echo x86_64\n');
  const output = page.locator('#panel-term-1 .xterm-rows > div').filter({ hasText: /^\s*x86_64\s*$/ });
  await expect(output).toHaveCount(1);
  // The cell of the underscore: its character's box across, the whole row down.
  const cell = await output.evaluate((row) => {
    const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.textContent!.indexOf('_');
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + 1);
      const glyph = range.getBoundingClientRect();
      const box = row.getBoundingClientRect();
      return { x: glyph.left, y: box.top, width: glyph.width, height: box.height };
    }
    throw new Error('no underscore in the row');
  });
  const png = await page.screenshot({ clip: cell });
  // Dark pixels in the lower half of the cell, where `_` is drawn (the rest of the cell is background).
  const dark = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const half = Math.floor(img.height / 2);
    const { data } = ctx.getImageData(0, half, img.width, img.height - half);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! < 3 * 200) n++;
    return n;
  }, png.toString('base64'));
  expect(dark).toBeGreaterThan(2);
  await context.close();
});

test('after exit the terminal says Enter opens a new shell, and Enter does, in the same tab', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  const first = await page.getByTestId('terminal').getAttribute('data-terminal-id');
  await typeInTerminal(page, 'exit\n');
  await expect(terminalText(page)).toContainText('The shell has ended. Press Enter for a new one.');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('terminal')).not.toHaveAttribute('data-terminal-id', first!);
  await expect(page.getByRole('tab', { name: /^Terminal/ })).toHaveCount(1);
  await typeInTerminal(page, 'echo "again-$((40+2))"\n');
  await expect(terminalText(page)).toContainText('again-42');
  // The new shell is the tab's terminal now: a reload comes back to it.
  const second = await page.getByTestId('terminal').getAttribute('data-terminal-id');
  await page.reload();
  await expect(page.getByTestId('terminal')).toHaveAttribute('data-terminal-id', second!);
  await expect(terminalText(page)).toContainText('again-42');
  await context.close();
});

test('the first terminal works before the page’s framework has loaded, and its tab takes the same shell once it has', async ({
  browser,
}) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  // Next.js' scripts wait until the prompt is there; the boot scripts (inline, /_next/static/boot/) do not.
  let release!: () => void;
  const framework = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/_next/static/chunks/*.js', async (route) => {
    await framework;
    await route.continue();
  });
  await page.goto('/lessons/Docker_Intro', { waitUntil: 'domcontentloaded' }); // "load" waits for the held scripts
  const first = page.locator('[data-testid=terminal][data-ready=true]');
  await expect(first).toBeVisible({ timeout: 60_000 });
  expect(await page.evaluate(() => performance.getEntriesByName('dockside:hydrated').length)).toBe(0);
  await page.locator('[data-testid=terminal] textarea').focus();
  await page.keyboard.type('echo "boot-$((6*7))"\n');
  await expect(page.locator('[data-testid=terminal] .xterm-rows')).toContainText('boot-42');
  const terminalId = await first.getAttribute('data-terminal-id');

  release();
  await expect(page.locator('#panel-term-1 [data-testid=terminal][data-ready=true]')).toBeVisible();
  await expect(page.locator('[data-testid=terminal]')).toHaveCount(1);
  await expect(page.locator('#panel-term-1 [data-testid=terminal]')).toHaveAttribute('data-terminal-id', terminalId!);
  await expect(terminalText(page)).toContainText('boot-42');
  await typeInTerminal(page, 'echo "tab-$((6*7))"\n');
  await expect(terminalText(page)).toContainText('tab-42');
  // The step's Run buttons type into it too: the player holds that terminal, not a copy of it.
  await page.getByRole('button', { name: 'Run in the terminal: docker version' }).click();
  await expect(terminalText(page)).toContainText('Server:');
  await context.close();
});

test('when the framework is there before the terminal’s boot script, the first tab shows the one shell the sandbox came with', async ({
  browser,
}) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  // The sandbox's answer brings its first terminal open; the boot script that would show it comes late,
  // so the player's own first tab does: the same terminal, not a second shell beside it.
  let release!: () => void;
  const late = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/_next/static/boot/*.js', async (route) => {
    await late;
    await route.continue();
  });
  await page.goto('/lessons/Docker_Intro', { waitUntil: 'domcontentloaded' });
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('#panel-term-1 [data-testid=terminal]')).toHaveCount(1);
  release();
  await typeInTerminal(page, 'echo "shells=$(pgrep -c -x bash)"\n');
  await expect(terminalText(page)).toContainText('shells=1');
  await expect(page.locator('[data-testid=terminal]')).toHaveCount(1);
  await context.close();
});
