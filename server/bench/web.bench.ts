// `npm run bench:web`: the lesson page as a learner meets it, from a cold browser (a new Chromium with an
// empty cache each run) against the real server with a warm pool: time to the first step's text, time to
// a usable terminal (the shell's first prompt drawn in xterm), and the JavaScript shipped before the
// editor loads (gzip). Prints a table.   BENCH_RUNS (default 7)   BENCH_QUICK=1: one load, short pauses
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from '../test/support/server';
import { median, printTable, QUICK, SHARED_DATA_DIR as shared, size, sleep, type Row } from './support';

const RUNS = size('BENCH_RUNS', 7, 1);
const kb = (n: number) => `${(n / 1024).toFixed(0)} kB`;

// Marks, in the page's own clock (ms since navigation start), when the text and the prompt appear.
const MARKS = `
  window.__marks = {};
  new MutationObserver(() => {
    const m = window.__marks;
    if (m.text === undefined && document.querySelector('#step-title')) m.text = performance.now();
    if (m.terminal === undefined && document.querySelector('[data-testid=terminal][data-ready=true]')) m.terminal = performance.now();
  }).observe(document, { subtree: true, childList: true, attributes: true });
`;

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-web-'));
const server = await startServer({
  DOCKSIDE_DATA_DIR: shared,
  DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
  DOCKSIDE_POOL_SIZE: '2',
  DOCKSIDE_SANDBOX_DISK: '1G',
});
const text: number[] = [];
const term: number[] = [];
const jsBefore: number[] = [];
const jsEditor: number[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    await sleep(QUICK ? 1000 : 2500); // the pool refills between runs
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
    });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    await page.addInitScript(MARKS);
    let editorOpened = false;
    const before: Promise<number>[] = [];
    const after: Promise<number>[] = [];
    page.on('response', (res) => {
      if (res.request().resourceType() !== 'script') return;
      const size = res.body().then(
        (b) => gzipSync(b).length,
        () => 0,
      );
      (editorOpened ? after : before).push(size);
    });
    await page.goto(`${server.url}/lessons/Docker_Intro`);
    await page.waitForSelector('[data-testid=terminal][data-ready=true]', { timeout: 60_000 });
    const marks = await page.evaluate(
      () => (window as unknown as { __marks: { text: number; terminal: number } }).__marks,
    );
    text.push(marks.text);
    term.push(marks.terminal);
    jsBefore.push((await Promise.all(before)).reduce((a, b) => a + b, 0));
    editorOpened = true;
    await page.getByRole('tab', { name: 'Editor' }).click();
    await page.waitForSelector('[data-testid=editor][data-keybinding-context]', { state: 'attached', timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    jsEditor.push((await Promise.all(after)).reduce((a, b) => a + b, 0));
    await browser.close();
    console.error(`run ${i + 1}/${RUNS}: text ${marks.text.toFixed(0)} ms, terminal ${marks.terminal.toFixed(0)} ms`);
  }
} finally {
  await server.stop();
}

const rows: Row[] = [
  ['first step text (cold browser)', `${median(text).toFixed(0)} ms`, '≤ 1000 ms'],
  ['usable terminal: first prompt', `${median(term).toFixed(0)} ms`, '≤ 2000 ms'],
  ['JavaScript before the editor (gzip)', kb(median(jsBefore)), ''],
  ['Monaco, loaded when the editor opens (gzip)', kb(median(jsEditor)), ''],
];
printTable(`bench:web — median of ${RUNS} cold-browser loads of /lessons/Docker_Intro, warm pool of 2`, rows);
