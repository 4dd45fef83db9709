// `npm run bench:web`: the lesson page as a learner meets it, from a cold browser (a new Chromium with an
// empty cache each run, its own start-up over before the page opens, as a learner's browser is) against
// the real server with a warm pool: time to the first step's text, time to a usable terminal (the shell's
// first prompt drawn in xterm) and the parts of that path, when each ended on the page's clock (HTML, the
// boot script, socket connected, `sandbox:ensure` answered with the first terminal open in it, prompt
// drawn, and beside them the framework's JavaScript and hydration: the page's `dockside:*` performance
// marks), the JavaScript shipped before the editor loads (gzip), how long the page's main thread was busy
// by the prompt (Chromium's own task times, split into script, layout and style) and the CPU all of
// Chromium used meanwhile: the part no server change can shorten, on cores the server shares here. Two
// visitors, alternating: a returning learner (a session cookie, as after the home page or a join) and a
// first visit (no cookie; the page's request makes the session). Prints a table.
//   BENCH_RUNS (default 7 of each)   BENCH_QUICK=1: one load of each, short pauses
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type CDPSession } from 'playwright-core';
import { startServer } from '../test/support/server';
import { median, printTable, QUICK, SHARED_DATA_DIR as shared, size, sleep, type Row } from './support';

/** The machine's 1-minute load average at the end (it is shared: figures are comparable at a like load). */
const loadAverage = () => os.loadavg()[0]!.toFixed(2);

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
// The parts of the path to the prompt, in order: each is when it ended, in ms since navigation start. The
// prompt does not wait for the framework (the lesson page's boot scripts, web/boot/); its two parts are
// shown beside the path, not in it.
const PATH = [
  ['html', 'HTML received'],
  ['boot', 'boot script ran (socket opening, `sandbox:ensure` in its handshake)'],
  ['socket', 'socket connected'],
  ['ensured', '`sandbox:ensure` answered'],
  ['terminal-open', "first terminal open (in the ensure's answer; else `terminal:open` answered)"],
  ['prompt', 'first prompt drawn'],
] as const;
const FRAMEWORK = [
  ['js', 'meanwhile: JavaScript received (the scripts asked for before hydration)'],
  ['hydrated', 'meanwhile: hydrated (the player mounted)'],
] as const;
const PARTS = [...PATH, ...FRAMEWORK];
type Part = (typeof PARTS)[number][0];
type Visitor = 'returning' | 'first';
const VISITORS: Visitor[] = ['returning', 'first'];
const newParts = () => Object.fromEntries(PARTS.map(([k]) => [k, [] as number[]])) as Record<Part, number[]>;
const parts: Record<Visitor, Record<Part, number[]>> = { returning: newParts(), first: newParts() };

// When each part ended, from the page's performance entries (a string: tsx's helpers do not exist in the page).
const READ_PARTS = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const out = { html: nav.responseEnd };
  for (const k of ['boot', 'hydrated', 'socket', 'ensured', 'terminal-open', 'prompt'])
    out[k] = performance.getEntriesByName('dockside:' + k)[0]?.startTime ?? NaN;
  const scripts = performance.getEntriesByType('resource')
    .filter((r) => (r.initiatorType === 'script' || r.initiatorType === 'link') && r.name.endsWith('.js') && r.startTime < out.hydrated);
  out.js = Math.max(nav.responseEnd, ...scripts.map((r) => r.responseEnd));
  return out;
})()`;

// The page's main thread, by the prompt: busy in all (ms), and in script, layout and style (CDP Performance metrics).
const BUSY = [
  ['TaskDuration', 'busy'],
  ['ScriptDuration', 'script'],
  ['LayoutDuration', 'layout'],
  ['RecalcStyleDuration', 'style'],
] as const;
type Busy = (typeof BUSY)[number][1];
const newBusy = () => Object.fromEntries(BUSY.map(([, k]) => [k, [] as number[]])) as Record<Busy, number[]>;
// CPU time of all of Chromium's processes (browser, renderer, network, GPU), in ms.
const chromiumCpu = async (cdp: CDPSession) => {
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { cpuTime: number }[] };
  return processInfo.reduce((sum, p) => sum + p.cpuTime, 0) * 1000;
};
/**
 * Waits for a just-launched Chromium to finish its own start-up (here ~1 s of both cores: its omnibox's
 * WebUI and the like), as a learner's browser has long before they click; its cache stays empty. The
 * CPU it used meanwhile, in ms.
 */
async function browserSettled(cdp: CDPSession): Promise<number> {
  const first = await chromiumCpu(cdp);
  let last = first;
  for (const until = Date.now() + 10_000; Date.now() < until;) {
    await sleep(250);
    const now = await chromiumCpu(cdp);
    if (now - last <= 20) break; // under a tenth of a core
    last = now;
  }
  return last - first;
}
const busy: Record<Visitor, Record<Busy, number[]>> = { returning: newBusy(), first: newBusy() };
const chromiumMs: Record<Visitor, number[]> = { returning: [], first: [] };
const startUp: number[] = [];

const text: number[] = [];
const term: Record<Visitor, number[]> = { returning: [], first: [] };
const jsBefore: number[] = [];
const jsEditor: number[] = [];
try {
  for (let i = 0; i < RUNS * 2; i++) {
    const visitor = VISITORS[i % 2]!;
    await sleep(QUICK ? 1000 : 2500); // the pool refills between runs
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    // A returning learner's session cookie, without loading any page (the browser's cache stays empty).
    if (visitor === 'returning') await context.request.get(`${server.url}/api/session`);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const browserCdp = await browser.newBrowserCDPSession();
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
    startUp.push(await browserSettled(browserCdp));
    const cpu0 = await chromiumCpu(browserCdp);
    await page.goto(`${server.url}/lessons/Docker_Intro`);
    await page.waitForSelector('[data-testid=terminal][data-ready=true]', { timeout: 60_000 });
    chromiumMs[visitor].push((await chromiumCpu(browserCdp)) - cpu0);
    const { metrics } = await cdp.send('Performance.getMetrics');
    for (const [name, k] of BUSY) busy[visitor][k].push((metrics.find((x) => x.name === name)?.value ?? NaN) * 1000);
    const marks = await page.evaluate(
      () => (window as unknown as { __marks: { text: number; terminal: number } }).__marks,
    );
    const got = (await page.evaluate(READ_PARTS)) as Record<Part, number>;
    for (const [k] of PARTS) parts[visitor][k].push(got[k]!);
    text.push(marks.text);
    term[visitor].push(marks.terminal);
    jsBefore.push((await Promise.all(before)).reduce((a, b) => a + b, 0));
    editorOpened = true;
    await page.getByRole('tab', { name: 'Editor' }).click();
    await page.waitForSelector('[data-testid=editor][data-keybinding-context]', { state: 'attached', timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    jsEditor.push((await Promise.all(after)).reduce((a, b) => a + b, 0));
    await browser.close();
    const each =
      PARTS.map(([k]) => `${k} ${got[k]!.toFixed(0)}`).join(', ') + `, busy ${busy[visitor].busy.at(-1)!.toFixed(0)}`;
    console.error(
      `run ${i + 1}/${RUNS * 2} (${visitor}): text ${marks.text.toFixed(0)} ms, terminal ${marks.terminal.toFixed(0)} ms (${each})`,
    );
  }
} finally {
  await server.stop();
}

const ms = (n: number) => `${n.toFixed(0)} ms`;
// Each part's end, and how long after the one before it (medians of each, so they need not add up).
const partRows = (v: Visitor): Row[] =>
  PATH.map(([k, what], i): Row => {
    const at = median(parts[v][k], what);
    const prev = i ? median(parts[v][PATH[i - 1]![0]]) : 0;
    return [`  ${what}`, `at ${ms(at)}`, at > prev ? `+${ms(at - prev)}` : 'overlapped'];
  }).concat(
    FRAMEWORK.map(([k, what]): Row => [`  ${what}`, `at ${ms(median(parts[v][k], what))}`, '']),
    [
      [
        "  the page's main thread busy by then",
        ms(median(busy[v].busy, 'main thread busy')),
        `script ${ms(median(busy[v].script))}, layout ${ms(median(busy[v].layout))}, style ${ms(median(busy[v].style))}; the rest parsing, compiling, painting`,
      ],
      [
        "  Chromium's CPU by then, all its processes",
        ms(median(chromiumMs[v], 'Chromium CPU')),
        `of ${os.cpus().length} cores shared with the server and the sandboxes`,
      ],
    ],
  );
const rows: Row[] = [
  ['first step text (cold browser)', ms(median(text)), '≤ 1000 ms'],
  ['usable terminal: first prompt, returning learner', ms(median(term.returning)), '≤ 500 ms'],
  ...partRows('returning'),
  ['usable terminal: first prompt, first visit', ms(median(term.first)), '≤ 500 ms'],
  ...partRows('first'),
  ['JavaScript before the editor (gzip)', kb(median(jsBefore)), ''],
  ["Chromium's own start-up, waited out before each load (CPU)", ms(median(startUp)), ''],
  ['Monaco, loaded when the editor opens (gzip)', kb(median(jsEditor)), ''],
];
printTable(
  `bench:web — median of ${RUNS} cold-browser loads of /lessons/Docker_Intro per visitor, warm pool of 2 (load ${loadAverage()})`,
  rows,
);
