import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';

const PASSWORD = 'correct horse battery';

/** WCAG 2 A/AA problems of our own markup (the terminal's and Layers' internals are checked elsewhere). */
async function violations(page: Page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .exclude('.xterm-screen')
    .exclude('.xterm-helpers')
    .analyze();
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const ready = (page: Page) => page.locator('[data-testid=terminal][data-ready=true]');

async function learnerJoins(browser: Browser, code: string, name: string) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(`/join/${code}`);
  await expect(page.getByRole('heading', { name: 'Join “Containers 101”' })).toBeVisible();
  expect(await violations(page)).toEqual([]);
  await page.getByLabel('Your name, as the instructor will see it').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page).toHaveURL(/\/lessons\/Docker_Intro/);
  await expect(ready(page)).toBeVisible({ timeout: 60_000 });
  return page;
}

test('an instructor runs a workshop: join by code, live progress, mirror, broadcast, reset, end, CSV', async ({
  browser,
}, testInfo) => {
  test.setTimeout(300_000);
  const teacher = await (
    await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } })
  ).newPage();
  await teacher.goto('/instructor');
  await expect(teacher.getByRole('button', { name: 'I need an account' })).toBeVisible();
  expect(await violations(teacher)).toEqual([]);
  await teacher.getByRole('button', { name: 'I need an account' }).click();
  await teacher.getByLabel('Email').fill('teacher@example.com');
  await teacher.getByLabel('Name', { exact: true }).fill('Ms. Kim');
  await teacher.getByLabel('Password').fill(PASSWORD);
  await teacher.getByLabel('Set-up code').fill(process.env.E2E_SETUP_CODE!);
  await teacher.getByRole('button', { name: 'Create an account' }).click();
  await expect(teacher.getByRole('heading', { name: 'Your workshops' })).toBeVisible();
  expect(await violations(teacher)).toEqual([]);

  // With two lessons chosen, their order can be changed by keyboard-reachable buttons.
  await teacher.getByRole('checkbox', { name: /Docker Layers/ }).check();
  const order = teacher.getByRole('list', { name: 'Order of the lessons' }).getByRole('listitem');
  await expect(order).toHaveText([/^Docker Intro/, /^Docker Layers/]);
  await teacher.getByRole('button', { name: /^Move Docker Layers.* up$/ }).click();
  await expect(order).toHaveText([/^Docker Layers/, /^Docker Intro/]);
  expect(await violations(teacher)).toEqual([]);
  await teacher.getByRole('checkbox', { name: /Docker Layers/ }).uncheck();
  // An exercise besides the lesson's steps.
  await teacher.getByRole('checkbox', { name: /Bring a broken web server back/ }).check();
  await teacher.getByLabel('Title').fill('Containers 101');
  await teacher.getByLabel('Seats').fill('3');
  await teacher.getByRole('button', { name: 'Create workshop' }).click();
  await expect(teacher.getByRole('heading', { name: 'Containers 101' })).toBeVisible();
  await teacher.getByRole('button', { name: 'Open the doors' }).click();
  await expect(teacher.getByTestId('workshop-state')).toHaveText('Open');
  const code = (await teacher.getByTestId('join-code').innerText()).trim();
  expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);

  // A Korean browser gets the join page in Korean.
  const korean = await (await browser.newContext({ locale: 'ko-KR' })).newPage();
  await korean.goto(`/join/${code}`);
  await expect(korean.getByRole('heading', { name: '“Containers 101”에 참여' })).toBeVisible();
  await expect(korean.getByLabel('강사에게 보일 이름')).toBeVisible();
  await expect(korean.getByRole('button', { name: '참여하기' })).toBeVisible();
  expect(await violations(korean)).toEqual([]);
  await korean.context().close();

  // Two learners join with the code; one name tries to inject markup.
  const ana = await learnerJoins(browser, code, 'Ana');
  const evil = '<img src=x onerror="window.pwned=1">Ben';
  const ben = await learnerJoins(browser, code, evil);
  const rows = teacher.locator('[data-testid=room-grid] tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(teacher.getByRole('button', { name: evil })).toBeVisible(); // shown as text
  expect(await teacher.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

  // Ana completes the first step: her first cell turns done on the dashboard by itself.
  await ana.getByRole('button', { name: 'Run in the terminal: docker version' }).click();
  await expect(teacher.locator('tr[data-learner="Ana"] td[data-step="your-engine"]')).toHaveAttribute(
    'data-state',
    'done',
    {
      timeout: 20_000,
    },
  );
  await expect(teacher.locator('tr[data-learner="Ana"]')).toContainText('docker version');

  // The instructor watches Ana's terminal, read-only and live.
  await teacher.getByRole('button', { name: 'Ana' }).click();
  await expect(teacher.getByTestId('mirror')).toBeVisible();
  await ana.locator('#panel-term-1 textarea').focus();
  await ana.keyboard.type(
    'docker pull -q busybox && mkdir -p app && echo from-ana > app/notes.txt && echo mirrored-$((6*7))\n',
  );
  await expect(teacher.locator('[data-testid=mirror] .xterm-rows')).toContainText('mirrored-42', { timeout: 30_000 });
  expect(await violations(teacher)).toEqual([]);

  // …her files, read-only…
  await teacher.getByRole('button', { name: 'Files' }).click();
  await teacher.getByRole('button', { name: 'app/' }).click();
  await teacher.getByRole('button', { name: 'notes.txt' }).click();
  await expect(teacher.locator('figure pre')).toHaveText('from-ana');

  // …and her Layers view.
  await teacher.getByRole('button', { name: 'Layers' }).click();
  await expect(teacher.locator('[data-testid=learner-layers] [data-image=busybox]')).toBeVisible();
  await teacher.screenshot({ path: testInfo.outputPath('dashboard.png') });

  // A broadcast reaches both learners as a toast; markup in it stays text.
  const broadcast = 'Take a 5 minute break <img src=x onerror="window.pwned=2">';
  await teacher.getByPlaceholder('Message to everyone').fill(broadcast);
  await teacher.getByRole('button', { name: 'Send' }).first().click();
  for (const page of [ana, ben]) {
    await expect(page.getByRole('status').filter({ hasText: broadcast })).toBeVisible();
    expect(await page.getByRole('status').locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  }

  // Reset Ben's sandbox: he gets a fresh one.
  const benTerminal = await ben.getByTestId('terminal').getAttribute('data-terminal-id');
  await teacher.getByRole('button', { name: evil }).click();
  await expect(teacher.getByTestId('mirror')).toHaveAttribute('data-terminal-id', benTerminal!);
  await teacher.getByRole('button', { name: 'Reset sandbox' }).click();
  await teacher.getByRole('dialog').getByRole('button', { name: 'Reset sandbox' }).click();
  await expect(ben.getByTestId('terminal')).not.toHaveAttribute('data-terminal-id', benTerminal!, { timeout: 60_000 });
  await expect(ready(ben)).toBeVisible({ timeout: 60_000 });
  // The open mirror follows him to the new sandbox's terminal.
  const benNew = await ben.getByTestId('terminal').getAttribute('data-terminal-id');
  await expect(teacher.getByTestId('mirror')).toHaveAttribute('data-terminal-id', benNew!);
  await ben.locator('[data-testid=terminal][data-ready=true] textarea').first().focus();
  await ben.keyboard.type('echo after-reset-$((2*21))\n');
  await expect(teacher.locator('[data-testid=mirror] .xterm-rows')).toContainText('after-reset-42', {
    timeout: 30_000,
  });

  // The exercise is a column after the lesson's steps; Ana reaches its goal, and its cell turns done.
  await expect(teacher.locator('[data-testid=room-grid] thead th[title="Bring a broken web server back"]')).toHaveText(
    'E1',
  );
  await ana.goto('/lessons/Docker_Intro/exercises/revive-web');
  await expect(ana.locator('article.exercise')).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  await expect(ready(ana)).toBeVisible({ timeout: 60_000 });
  await ana.locator('#panel-term-1 textarea').focus();
  await ana.keyboard.type('docker rm web; docker run -d --name web -p 8080:80 nginx\n');
  await expect(teacher.locator('tr[data-learner="Ana"] td[data-step="exercise:revive-web"]')).toHaveAttribute(
    'data-state',
    'done',
    { timeout: 60_000 },
  );

  // End: sandboxes are destroyed, learners are told, results list both learners' steps.
  await teacher.getByRole('button', { name: 'End workshop' }).click();
  await teacher.getByRole('dialog').getByRole('button', { name: 'End workshop' }).click();
  await expect(teacher.getByTestId('workshop-state')).toHaveText('Ended');
  for (const page of [ana, ben])
    await expect(page.getByRole('alert').filter({ hasText: 'Your sandbox has ended' })).toBeVisible();
  const [download] = await Promise.all([
    teacher.waitForEvent('download'),
    teacher.getByRole('link', { name: 'Download results (CSV)' }).click(),
  ]);
  const csv = await (
    await download.createReadStream()
  )
    .toArray()
    .then((chunks) => Buffer.concat(chunks).toString('utf8'));
  expect(csv).toMatch(/^Ana,Docker_Intro,your-engine,passed,/m);
  expect(csv).toMatch(/Ben",Docker_Intro,engine-info,pending,/);
  expect(csv).toMatch(/^Ana,Docker_Intro,exercise:revive-web,passed,/m);
  expect(csv.match(/^Ana,/gm)?.length).toBe(14);

  // The results stay viewable after the end: per learner and step, the time it took.
  await teacher.getByRole('link', { name: 'Results', exact: true }).click();
  await expect(teacher.getByRole('heading', { name: 'Results: Containers 101' })).toBeVisible();
  const results = teacher.getByTestId('results');
  await expect(results.locator('tbody tr')).toHaveCount(2);
  await expect(results.locator('tr[data-learner="Ana"] td[data-step="your-engine"]')).toHaveAttribute(
    'data-status',
    'passed',
  );
  await expect(results.locator('tr[data-learner="Ana"] td[data-step="your-engine"]')).toHaveText(/^\d+ s$|min/);
  await expect(results.getByRole('rowheader', { name: evil })).toBeVisible();
  expect(await violations(teacher)).toEqual([]);
  await teacher.screenshot({ path: testInfo.outputPath('results.png') });
});
