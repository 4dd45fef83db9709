import { expect, test } from '@playwright/test';
import { loadLessons } from '@dockside/lessons';

const lessons = loadLessons();

test('home page lists every lesson from lessons/, in the browser language', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Dockside', level: 1 })).toBeVisible();
  const cards = page.locator('.lesson-card');
  await expect(cards).toHaveCount(lessons.length);
  for (const lesson of lessons) {
    await expect(page.getByRole('heading', { name: lesson.title.en })).toBeVisible();
  }
  await context.close();
});

test('Korean browsers get Korean, and the language switch is remembered', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'ko-KR' });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await expect(page.getByRole('heading', { name: lessons[0]!.title.ko })).toBeVisible();

  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: lessons[0]!.title.en })).toBeVisible();
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('button', { name: 'English' })).toHaveAttribute('aria-pressed', 'true');
  await context.close();
});

test('the page gets an HttpOnly session cookie that the API recognises', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/');
  const session = (await context.cookies()).find((c) => c.name === 'dockside_session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Lax');
  const who = await page.evaluate(async () => (await fetch('/api/session')).json());
  expect(who.learnerId).toBe(session!.value.split('.')[0]);
  await context.close();
});
