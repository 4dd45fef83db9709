// Both lessons in both languages, as a newcomer first sees them, kept in e2e/test-results/ so the next
// person can look at the pages without running them.
import { expect, test } from '@playwright/test';
import { loadLessons, LOCALES } from '@dockside/lessons';

for (const lesson of loadLessons())
  for (const locale of LOCALES)
    test(`${lesson.id} in ${locale}: first and last step`, async ({ browser }, testInfo) => {
      const context = await browser.newContext({
        locale: locale === 'ko' ? 'ko-KR' : 'en-US',
        viewport: { width: 1280, height: 800 },
      });
      const page = await context.newPage();
      for (const [n, step] of [
        [1, lesson.steps[0]!],
        [lesson.steps.length, lesson.steps.at(-1)!],
      ] as const) {
        await page.goto(`/lessons/${lesson.id}?step=${step.id}`);
        await expect(page.getByRole('heading', { level: 2, name: step.title[locale] })).toBeVisible();
        await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
        await page.screenshot({ path: testInfo.outputPath(`${lesson.id}-${locale}-step-${n}.png`) });
      }
      await context.close();
    });
