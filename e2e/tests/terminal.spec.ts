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
