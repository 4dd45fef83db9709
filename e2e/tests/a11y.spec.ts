import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';

// WCAG 2 A/AA (contrast included) on our own markup. xterm's and Monaco's internals are third-party
// widgets with their own accessibility modes; their containers and labels are still checked.
async function violations(page: Page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .exclude('.xterm-screen')
    .exclude('.xterm-helpers')
    .exclude('.monaco-editor')
    .analyze();
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const locale of ['en-US', 'ko-KR']) {
  test(`home and lesson pages pass WCAG AA checks (${locale})`, async ({ browser }) => {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.locator('.lesson-card').first()).toBeVisible();
    expect(await violations(page)).toEqual([]);

    await page.goto('/lessons/Docker_Intro');
    await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
    await page.locator('.step-list summary').click();
    expect(await violations(page)).toEqual([]);
    await page.getByRole('tab').nth(1).click();
    expect(await violations(page)).toEqual([]);
    await context.close();
  });
}

test('keyboard: tabs move with arrow keys and the split moves with arrow keys', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  const first = page.getByRole('tab', { name: 'Terminal 1' });
  await first.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Editor' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Editor' })).toHaveAttribute('aria-selected', 'true');
  const split = page.getByRole('separator');
  const before = Number(await split.getAttribute('aria-valuenow'));
  await split.focus();
  await page.keyboard.press('ArrowRight');
  await expect(split).toHaveAttribute('aria-valuenow', String(before + 5));
  await context.close();
});
