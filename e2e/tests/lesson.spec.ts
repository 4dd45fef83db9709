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
  await expect(built).toHaveAttribute('data-status', 'pending');

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

test('the editor follows changes made in the terminal and reports a conflict instead of overwriting', async ({
  browser,
}) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(`/lessons/Docker_Layers?step=${firstBuild.id}`);
  await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
  const editorTab = page.getByRole('tab', { name: 'Editor' });
  const terminalTab = page.getByRole('tab', { name: 'Terminal 1' });
  const editor = page.locator('.monaco-editor .view-lines');
  const shell = async (line: string) => {
    await terminalTab.click();
    await page.locator('#panel-term-1 textarea').focus();
    await page.keyboard.type(line + '\n');
  };

  await editorTab.click();
  await page.getByRole('button', { name: 'app.py', exact: true }).click();
  await expect(editor).toContainText('Hello from a layered image!');

  // Unchanged in the editor: a change made in the terminal simply shows up.
  await shell(`echo '# first-change' >> /workspace/app.py`);
  await expect(terminal(page)).toContainText('first-change');
  await editorTab.click();
  await expect(editor).toContainText('# first-change');

  // Edited in the editor and changed underneath: the learner chooses.
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\n# mine');
  await shell(`echo '# second-change' >> /workspace/app.py`);
  await editorTab.click();
  const conflict = page.getByRole('alert').filter({ hasText: 'changed in the sandbox' });
  await expect(conflict).toBeVisible();
  await conflict.getByRole('button', { name: 'Load the sandbox version' }).click();
  await expect(editor).toContainText('# second-change');
  await expect(editor).not.toContainText('# mine');
  await context.close();
});

test('reset gives a fresh sandbox after a confirmation; the finish page summarises the lesson', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Run in the terminal: docker version' }).click();
  await expect(page.locator('article.step')).toHaveAttribute('data-status', 'passed');
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type('touch /workspace/old-sandbox && hostname\n');
  const before = await page.getByTestId('terminal').getAttribute('data-terminal-id');

  await page.getByRole('button', { name: 'Reset sandbox' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Reset your sandbox?');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('terminal')).toHaveAttribute('data-terminal-id', before!);

  await page.getByRole('button', { name: 'Reset sandbox' }).click();
  await dialog.getByRole('button', { name: 'Yes, reset' }).click();
  await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('terminal')).not.toHaveAttribute('data-terminal-id', before!);
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type('ls /workspace/old-sandbox || echo gone-$((1+1))\n');
  await expect(terminal(page)).toContainText('gone-2');
  await expect(page.locator('article.step')).toHaveAttribute('data-status', 'passed'); // progress kept

  await page.goto('/lessons/Docker_Intro/finish');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Lesson complete');
  await expect(page.getByText('You completed 1 of 13 steps.')).toBeVisible();
  await expect(page.locator('tr[data-status=passed]')).toHaveCount(1);
  await context.close();
});
