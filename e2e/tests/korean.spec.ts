// What a Korean reader sees: words wrap whole, as Korean is written (spaces between words), not between
// any two syllables.
import { expect, test } from '@playwright/test';

test('Korean words are not broken across lines on the home cards', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'ko-KR', viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  // Every Hangul word of the cards' text, and how many lines it is drawn on.
  const broken = await page.locator('.lesson-card').evaluateAll((cards) => {
    const split: string[] = [];
    let words = 0;
    for (const card of cards) {
      const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.textContent!.matchAll(/[\uac00-\ud7a3]{2,}/g)) {
          words++;
          const range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          if (tops.size > 1) split.push(m[0]);
        }
      }
    }
    return { words, split };
  });
  expect(broken.words).toBeGreaterThan(10);
  expect(broken.split).toEqual([]);
  await context.close();
});
