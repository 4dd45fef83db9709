import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { loadCatalogue } from '../../server/src/images/catalogue';

const catalogue = loadCatalogue();
const redis = catalogue.find((i) => i.repository === 'redis')!;

test('the catalogue lists every image with its tags and description, reached from home by keyboard', async ({
  browser,
}) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/');
  const link = page.getByRole('link', { name: 'Images you can pull' });
  await link.focus();
  await expect(link).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/catalogue$/);
  await expect(page.getByRole('heading', { name: 'Images', level: 1 })).toBeVisible();
  await expect(page.locator('.image-list > li')).toHaveCount(catalogue.length);
  const card = page.locator('[data-repository="redis"]');
  await expect(card.getByRole('heading', { name: 'redis' })).toBeVisible();
  await expect(card).toContainText(redis.description.en);
  for (const tag of redis.tags) await expect(card).toContainText(`redis:${tag}`);
  await expect(page.locator('[data-repository="mysql"]')).toContainText('MariaDB');
  await context.close();
});

test('Korean browsers get the Korean descriptions', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'ko-KR' });
  const page = await context.newPage();
  await page.goto('/catalogue');
  await expect(page.getByRole('heading', { name: '이미지', level: 1 })).toBeVisible();
  await expect(page.locator('[data-repository="redis"]')).toContainText(redis.description.ko);
  await context.close();
});

test('the lesson sidebar links to the catalogue in a new tab', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  const link = page.getByRole('link', { name: 'Images you can pull (opens in a new tab)' });
  await expect(link).toHaveAttribute('href', '/catalogue');
  const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await expect(tab.locator('[data-repository="redis"]')).toContainText(redis.description.en);
  await context.close();
});

for (const locale of ['en-US', 'ko-KR']) {
  test(`the catalogue passes WCAG AA checks (${locale})`, async ({ browser }) => {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await page.goto('/catalogue');
    await expect(page.locator('[data-repository="redis"]')).toBeVisible();
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    await context.close();
  });
}
