import { expect, test, type Page } from '@playwright/test';
import { loadLessons } from '@dockside/lessons';

const intro = loadLessons().find((l) => l.id === 'Docker_Intro')!;
const revive = intro.exercises.find((e) => e.id === 'revive-web')!;

/** The text xterm shows (its DOM renderer draws one element per row). */
const terminal = (page: Page) => page.locator('#panel-term-1 .xterm-rows');

test('an exercise opens prepared, has no ▶ Run, gives hints one at a time, and is done when the outcome is reached', async ({
  browser,
}, testInfo) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`/lessons/Docker_Intro/exercises/${revive.id}`);
  const article = page.locator('article.exercise');
  await expect(page.getByRole('heading', { level: 2, name: revive.title.en })).toBeVisible();
  // A progress bar while the starting state is made, then the checks of a prepared exercise.
  await expect(article.locator('progress')).toBeVisible();
  await expect(article).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  await expect(article.locator('progress')).toHaveCount(0);
  await expect(page.locator('[data-check-id=running]')).toHaveAttribute('data-status', 'pending');
  await expect(page.getByRole('timer')).toContainText(/Time left: (10:00|9:\d\d)/);

  // No ▶ Run anywhere: the learner finds the commands.
  await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('button', { name: /^Run in the terminal/ })).toHaveCount(0);

  // The starting state is there: the broken `web` exited.
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type(`docker ps -a --filter name=web --format '{{.Names}} is {{.State}}'\n`);
  await expect(terminal(page)).toContainText('web is exited');

  // Hints one at a time, until there are no more.
  const hints = page.locator('.step-help aside.callout-tip');
  const more = page.getByRole('button', { name: 'Show a hint' });
  for (let n = 1; n <= revive.hints.length; n++) {
    await more.click();
    await expect(hints).toHaveCount(n);
    await expect(hints.nth(n - 1)).toContainText(revive.hints[n - 1]!.en.replace(/`/g, '').slice(0, 20));
  }
  await expect(more).toHaveCount(0);

  // Commands of the test's own choosing, not the solution's: a new `web` in two steps, by another flag name.
  await page.locator('#panel-term-1 textarea').focus();
  await page.keyboard.type('docker container rm web && docker create --name web --publish 8080:80 nginx:latest\n');
  await page.keyboard.type('docker start web\n');
  await expect(page.locator('[data-check-id=serves]')).toHaveAttribute('data-status', 'passed', { timeout: 60_000 });
  await expect(article).toHaveAttribute('data-status', 'passed');
  await expect(page.getByText('Exercise complete — you reached the goal.')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('exercise-en.png') });

  // Opened again, the exercise is as the learner left it, still done.
  await page.reload();
  await expect(article).toHaveAttribute('data-phase', 'ready', { timeout: 60_000 });
  await expect(article).toHaveAttribute('data-status', 'passed');
  await expect(page.locator('[data-check-id=running]')).toHaveAttribute('data-status', 'passed');
  await context.close();
});

test('an exercise in Korean, listed under its lesson', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'ko-KR' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro/finish');
  await page.getByRole('link', { name: intro.exercises[1]!.title.ko }).click();
  await expect(page).toHaveURL(/\/lessons\/Docker_Intro\/exercises\/free-disk$/);
  await expect(page.getByRole('heading', { level: 2, name: intro.exercises[1]!.title.ko })).toBeVisible();
  await expect(page.locator('article.exercise')).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  await expect(page.getByRole('button', { name: '힌트 보기' })).toBeVisible();
  await context.close();
});

test('an unknown exercise gets a 404 page', async ({ page }) => {
  const res = await page.goto('/lessons/Docker_Intro/exercises/no-such-exercise');
  expect(res?.status()).toBe(404);
});
