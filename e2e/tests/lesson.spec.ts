import { expect, test, type Page } from '@playwright/test';
import { loadLessons } from '@dockside/lessons';

const layers = loadLessons().find((l) => l.id === 'Docker_Layers')!;
const firstBuild = layers.steps.find((s) => s.id === 'first-build')!;

/** The text xterm shows (its DOM renderer draws one element per row). */
const terminal = (page: Page) => page.locator('#panel-term-1 .xterm-rows');

test('a learner runs a step, edits the Dockerfile, builds, and the check turns green by itself', async ({
  browser,
}, testInfo) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(`/lessons/Docker_Layers?step=${firstBuild.id}`);
  await expect(page.getByRole('heading', { level: 2, name: firstBuild.title.en })).toBeVisible();
  await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
  const built = page.locator('[data-check-id=built]');
  await expect(built).toHaveAttribute('data-status', 'failed');

  // Edit the seeded Dockerfile in Monaco and save with Ctrl+S.
  await page.getByRole('tab', { name: 'Editor' }).click();
  await page.getByRole('button', { name: 'Dockerfile', exact: true }).click();
  const editor = page.locator('.monaco-editor .view-lines');
  await expect(editor).toContainText('FROM python:3-slim');
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\nLABEL edited-by=e2e-browser\n');
  await expect(page.getByTestId('editor-path')).toContainText('unsaved');
  await page.keyboard.press('Control+s');
  await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Dockerfile ●/ })).toHaveCount(0);

  // Click-to-run: the step's build block is typed into the terminal and runs for real.
  await page.getByRole('tab', { name: 'Terminal 1' }).click();
  await page.getByRole('button', { name: /^Run in the terminal: cd \/workspace/ }).click();
  await expect(terminal(page)).toContainText('Hello from a layered image!', { timeout: 120_000 });
  await expect(built).toHaveAttribute('data-status', 'passed');
  await expect(page.locator('article.step')).toHaveAttribute('data-status', 'passed');

  // The saved edit is in the image the sandbox's engine built.
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type(`docker image inspect -f 'label={{index .Config.Labels "edited-by"}}' myapp\n`);
  await expect(terminal(page)).toContainText('label=e2e-browser');
  await page.screenshot({ path: testInfo.outputPath('lesson-en.png') });

  // A reload brings back the same terminal with its scrollback, and the progress.
  await page.reload();
  await expect(page.locator('[data-testid=terminal]')).toBeVisible();
  await expect(terminal(page)).toContainText('label=e2e-browser');
  await expect(page.locator('article.step')).toHaveAttribute('data-status', 'passed');
  await expect(page.getByText('1 of 10 steps done')).toBeVisible();

  // Korean: the same step in Korean, remembered.
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(page.getByRole('heading', { level: 2, name: firstBuild.title.ko })).toBeVisible();
  await expect(page.getByRole('tab', { name: '편집기' })).toBeVisible();
  await expect(terminal(page)).toContainText('label=e2e-browser');
  await page.screenshot({ path: testInfo.outputPath('lesson-ko.png') });
  await context.close();
});

test('Escape at the prompt leaves the terminal; the lesson text is reachable by keyboard', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.press('Escape');
  await expect(page.locator('#step-title')).toBeFocused();
  await context.close();
});

test('an unknown lesson gets a clear 404 page', async ({ page }) => {
  const res = await page.goto('/lessons/No_Such_Lesson');
  expect(res?.status()).toBe(404);
});
