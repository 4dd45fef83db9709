import { expect, test } from '@playwright/test';

test('the Layers tab shows a freshly built image without a reload, and a layer’s files', async ({
  browser,
}, testInfo) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto('/lessons/Docker_Layers?step=first-build');
  await expect(page.locator('[data-testid=terminal][data-ready=true]')).toBeVisible({ timeout: 60_000 });

  // Open the tab before building: it shows what the engine holds now.
  await page.getByRole('tab', { name: 'Layers' }).click();
  await expect(page.getByTestId('layers-empty').or(page.getByTestId('layers'))).toBeVisible();
  await expect(page.locator('[data-image=myapp]')).toHaveCount(0);

  // Build in the terminal (a second one, so the Layers tab stays open), then look back: no reload.
  await page.getByRole('tab', { name: 'Terminal 1' }).click();
  await page.locator('#panel-term-1 textarea').focus();
  // As the lesson's first step does: BuildKit pulls a FROM image for the build only, without tagging it.
  await page.keyboard.type(
    'cd /workspace && docker pull -q python:3-slim && docker build -q -t myapp . && docker build -q -t waste -f Dockerfile.waste .\n',
  );
  await page.getByRole('tab', { name: 'Layers' }).click();
  const myapp = page.locator('[data-image=myapp]');
  await expect(myapp).toBeVisible({ timeout: 120_000 });
  await expect(myapp).toContainText('shares layers with');
  // Both builds done, so the list stops changing under the clicks below.
  await expect(page.locator('[data-image=waste]')).toBeVisible({ timeout: 120_000 });
  await myapp.click();

  // The stack: python's layers shared with python:3-slim, the app's own layers on top.
  const stack = page.getByRole('list', { name: 'Layers of myapp, newest on top' });
  await expect(stack.locator('.layer-bar.shared').first()).toBeVisible();
  // Wait for the figures that need the layers' files (they add a line to each bar), so nothing moves.
  await expect(page.getByText(/wasted · efficiency/)).toBeVisible();
  const copy = stack.getByRole('button', { name: /COPY app\.py \./ }); // BuildKit's history: COPY app.py .
  await expect(copy).toBeVisible();
  await copy.click();
  const files = page.getByRole('list', { name: /^Files of layer/ });
  await expect(files.locator('[data-path="app/app.py"]')).toHaveAttribute('data-change', 'A');

  // The whole filesystem up to that layer, filtered.
  await page.getByLabel('Whole filesystem up to here').check();
  await page.getByPlaceholder('Filter by path').fill('usr/bin/python3');
  await expect(files.locator('[data-path^="usr/bin/python3"]').first()).toBeVisible();

  // Which layer touched a path.
  await page.getByLabel('Which layer touched a path?').fill('/app/app.py');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('button', { name: /^Layer \d+: added$/ })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('layers-en.png') });

  // Compare two images built on the same base.
  await page.getByLabel('Compare with').selectOption({ label: 'waste' });
  await expect(page.getByText(/They share \d+ layers/)).toBeVisible();
  await context.close();
});
