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

test('the terminal welcomes a Korean learner in Korean', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'ko-KR' });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Intro');
  await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });
  const terminal = page.locator('#panel-term-1 .xterm-rows');
  await expect(terminal).toContainText('Docker Engine이 따로 있는 나만의 머신');
  await expect(terminal).toContainText('파일은 /workspace에 있습니다');
  await expect(terminal).not.toContainText('Welcome to your Dockside sandbox');
  await context.close();
});
