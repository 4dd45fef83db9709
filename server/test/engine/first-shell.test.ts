// A sandbox's first shell starts when the sandbox is handed out (`sandbox:ensure`), so the page's
// `terminal:open` answers with the prompt already drawn: the learner does not wait for bash after xterm.
// It is the page's first terminal, whatever id the page still remembers: the sandbox never has a second
// shell the page does not show (an instructor's mirror follows the sandbox's terminals). A returning
// learner's lesson page request hands the sandbox out and starts that shell before the page asks at all.
// The lesson page asks for it with the sandbox (`sandbox:ensure`'s `terminal`), in the same answer, and asks
// in its socket's handshake, so that answer follows the connection's at once; the socket's address names
// the lesson, so the hand-out and the shell start as the connection opens, before that handshake comes.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxView } from '@dockside/protocol';
import { ensuredInHandshake, Learner, request, TerminalReader } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-first-shell-'));
type Opened = { terminalId: string; scrollback: string };
const PROMPT = '\x1b]633;A';

const current = async (learner: Learner) =>
  ((await (await learner.fetch('/api/sandboxes/current')).json()) as { sandbox: SandboxView | null }).sandbox;

/** The sandbox has one shell: the page's (bash processes, counted from inside it). */
async function expectOneShell(term: TerminalReader): Promise<void> {
  term.type('echo "shells=$(pgrep -c -x bash)"\r');
  const out = await term.waitFor(/shells=\d+/);
  expect(/shells=(\d+)/.exec(out)?.[1]).toBe('1');
}

/** A page that comes back (a new socket, its ensure, its terminal) finds the sandbox's one shell, at its prompt. */
async function expectOneShellOnReturn(learner: Learner, sandboxId?: string): Promise<void> {
  const again = learner.socket();
  try {
    const r = await request<SandboxView>(again, 'sandbox:ensure', {});
    if (!r.ok) throw new Error(r.error.message);
    if (sandboxId) expect(r.value.id).toBe(sandboxId);
    const t = await request<Opened>(again, 'terminal:open', { sandboxId: r.value.id, cols: 80, rows: 24 });
    if (!t.ok) throw new Error(t.error.message);
    const term = new TerminalReader(again, t.value.terminalId, t.value.scrollback);
    await term.firstPrompt();
    await expectOneShell(term);
  } finally {
    again.close();
  }
}

/** Once the page's shell is at its prompt, and a second one, had one been started beside it, would be up. */
async function expectOneShellOnceUp(term: TerminalReader): Promise<void> {
  await term.firstPrompt();
  await new Promise((res) => setTimeout(res, 1000));
  await expectOneShell(term);
}

describe.runIf(sandboxesAvailable())('the first shell of a sandbox', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
      DOCKSIDE_POOL_SIZE: '2',
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it("is at its prompt in terminal:open's answer, at the page's size, and a reload gets the same shell back", async () => {
    const ana = await Learner.join(server.url);
    const socket = ana.socket();
    try {
      const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
      if (!r.ok) throw new Error(r.error.message);
      // The page loads xterm meanwhile; the shell is not waiting for it.
      await new Promise((res) => setTimeout(res, 2000));
      const t = await request<Opened>(socket, 'terminal:open', { sandboxId: r.value.id, cols: 101, rows: 31 });
      if (!t.ok) throw new Error(t.error.message);
      expect(t.value.scrollback).toContain(PROMPT);
      const term = new TerminalReader(socket, t.value.terminalId, t.value.scrollback);
      term.type('stty size\r');
      await term.waitFor('31 101');

      // A reload asks for the sandbox again: its shell is there, so no other one is started for it.
      socket.close();
      const again = ana.socket();
      try {
        const r2 = await request<SandboxView>(again, 'sandbox:ensure', {});
        expect(r2.ok && r2.value.id).toBe(r.value.id);
        const back = await request<Opened>(again, 'terminal:open', {
          sandboxId: r.value.id,
          terminalId: t.value.terminalId,
          cols: 101,
          rows: 31,
        });
        expect(back.ok && back.value.terminalId).toBe(t.value.terminalId);
        const reader = new TerminalReader(again, t.value.terminalId, back.ok ? back.value.scrollback : '');
        await expectOneShell(reader);
      } finally {
        again.close();
      }
    } finally {
      socket.close();
    }
  }, 120_000);

  it("is the page's terminal also when the page asks with an id that is gone (after a reset): one shell", async () => {
    const cleo = await Learner.join(server.url);
    const socket = cleo.socket();
    try {
      const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
      if (!r.ok) throw new Error(r.error.message);
      // What a page remembers from the sandbox it had before: an id no terminal of hers has now.
      const t = await request<Opened>(socket, 'terminal:open', {
        sandboxId: r.value.id,
        terminalId: 't-0123456789ab',
        cols: 90,
        rows: 25,
      });
      if (!t.ok) throw new Error(t.error.message);
      expect(t.value.terminalId).not.toBe('t-0123456789ab');
      const term = new TerminalReader(socket, t.value.terminalId, t.value.scrollback);
      await expectOneShellOnceUp(term);
    } finally {
      socket.close();
    }
  }, 120_000);

  it("is the page's terminal when the page asks as soon as it hears its warm sandbox is ready, before the answer", async () => {
    const eve = await Learner.join(server.url);
    const socket = eve.socket();
    try {
      // What the lesson page does: the sandbox's state (ready) comes before `sandbox:ensure` answers, and
      // the page's terminal asks then.
      const ready = new Promise<SandboxView>((resolve) =>
        socket.on('sandbox:state', (s: SandboxView) => s.phase === 'ready' && resolve(s)),
      );
      const answer = request<SandboxView>(socket, 'sandbox:ensure', {});
      const sandbox = await ready;
      const t = await request<Opened>(socket, 'terminal:open', { sandboxId: sandbox.id, cols: 80, rows: 24 });
      if (!t.ok) throw new Error(t.error.message);
      const r = await answer;
      expect(r.ok && r.value.id).toBe(sandbox.id);
      const term = new TerminalReader(socket, t.value.terminalId, t.value.scrollback);
      await expectOneShellOnceUp(term);
    } finally {
      socket.close();
    }
  }, 120_000);

  it("comes open in sandbox:ensure's answer when the page asks for it there, at the page's size; the same one for its id", async () => {
    // The lesson page's first ask: the sandbox and its first terminal in one round trip.
    type WithTerminal = SandboxView & { terminal?: Opened };
    const ivy = await Learner.join(server.url);
    const socket = ivy.socket();
    try {
      const r = await request<WithTerminal>(socket, 'sandbox:ensure', {
        lessonId: 'Docker_Intro',
        terminal: { cols: 97, rows: 29, locale: 'ko' },
      });
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.phase).toBe('ready');
      const opened = r.value.terminal!;
      expect(opened.terminalId).toMatch(/^t-[0-9a-f]{12}$/);
      // Output after the answer comes as it would after terminal:open's, and input reaches the shell.
      const term = new TerminalReader(socket, opened.terminalId, opened.scrollback);
      await term.firstPrompt();
      term.type('echo "size=$(stty size) lang=$DOCKSIDE_LANG"\r');
      await term.waitFor('size=29 97 lang=ko');
      await expectOneShell(term);

      // A reload asks with the id it remembers: that shell, its scrollback, and still one shell.
      socket.close();
      const again = ivy.socket();
      try {
        const r2 = await request<WithTerminal>(again, 'sandbox:ensure', {
          lessonId: 'Docker_Intro',
          terminal: { terminalId: opened.terminalId, cols: 97, rows: 29 },
        });
        if (!r2.ok) throw new Error(r2.error.message);
        expect(r2.value.id).toBe(r.value.id);
        expect(r2.value.terminal?.terminalId).toBe(opened.terminalId);
        expect(r2.value.terminal?.scrollback).toContain('size=29 97 lang=ko');
        await expectOneShell(new TerminalReader(again, opened.terminalId, r2.value.terminal!.scrollback));
        // Asked without `terminal`, the answer is the sandbox alone.
        const r3 = await request<WithTerminal>(again, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
        expect(r3.ok && r3.value.id).toBe(r.value.id);
        expect(r3.ok && 'terminal' in r3.value).toBe(false);
      } finally {
        again.close();
      }
    } finally {
      socket.close();
    }
  }, 120_000);

  it('comes with the connection when the page asks in its handshake, at its size; a bad ask is refused there, the socket kept', async () => {
    type WithTerminal = SandboxView & { terminal?: Opened };
    const uma = await Learner.join(server.url);
    const socket = uma.socket({ ensure: { lessonId: 'Docker_Layers', terminal: { cols: 91, rows: 27 } } });
    const bad = uma.socket({ ensure: { terminal: { cols: 91, rows: 'many' } } });
    const refused = ensuredInHandshake(bad);
    const plain = uma.socket();
    let heard = false;
    plain.on('sandbox:ensured', () => (heard = true));
    try {
      const r = await ensuredInHandshake<WithTerminal>(socket);
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.phase).toBe('ready');
      // A new shell's answer waits for its first prompt: the page draws it from the answer itself.
      expect(r.value.terminal!.scrollback).toContain(PROMPT);
      const term = new TerminalReader(socket, r.value.terminal!.terminalId, r.value.terminal!.scrollback);
      await term.firstPrompt();
      term.type('echo "size=$(stty size)"; ls /workspace\r');
      await term.waitFor(/size=27 91[\s\S]*app\.py/); // the lesson's files, as the event's ensure puts them
      await expectOneShell(term);

      expect(await refused).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      const who = await new Promise((res) => bad.emit('session:whoami', res));
      expect(who).toMatchObject({ ok: true, value: { learnerId: uma.id } });
      // A socket that asked nothing in its handshake hears no answer.
      const same = await request<SandboxView>(plain, 'sandbox:ensure', {});
      expect(same.ok && same.value.id).toBe(r.value.id);
      await new Promise((res) => setTimeout(res, 300));
      expect(heard).toBe(false);
    } finally {
      for (const s of [socket, bad, plain]) s.close();
    }
  }, 120_000);

  it("starts as the lesson page's socket connects, naming its lesson, before its handshake asks; the handshake takes it", async () => {
    type WithTerminal = SandboxView & { terminal?: Opened };
    const ivy = await Learner.join(server.url);
    const connection = ivy.connection({ lesson: 'Docker_Layers' });
    try {
      // No handshake and no event yet: the connection alone hands the sandbox out.
      await expect.poll(async () => (await current(ivy))?.phase, { timeout: 60_000 }).toBe('ready');
      await new Promise((res) => setTimeout(res, 1500)); // its shell is up meanwhile
      const socket = connection.socket('/', {
        auth: { ensure: { lessonId: 'Docker_Layers', terminal: { cols: 91, rows: 27 } } },
      });
      const r = await ensuredInHandshake<WithTerminal>(socket);
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.id).toBe((await current(ivy))!.id);
      expect(r.value.terminal!.scrollback).toContain(PROMPT);
      const term = new TerminalReader(socket, r.value.terminal!.terminalId, r.value.terminal!.scrollback);
      term.type('echo "size=$(stty size)"; ls /workspace\r');
      await term.waitFor(/size=27 91[\s\S]*app\.py/); // the lesson's files, put in by the connection's start
      await expectOneShell(term);
    } finally {
      connection.engine?.close();
    }
  }, 120_000);

  it('ends the shell a connection started when it goes without a handshake; a bad lesson name starts nothing', async () => {
    const jo = await Learner.join(server.url);
    const first = jo.connection({ lesson: 'Docker_Intro' });
    await expect.poll(async () => (await current(jo))?.phase, { timeout: 60_000 }).toBe('ready');
    await new Promise((res) => setTimeout(res, 1500)); // the shell is up
    first.engine?.close();
    await new Promise((res) => setTimeout(res, 1500));
    await expectOneShellOnReturn(jo);

    const kim = await Learner.join(server.url);
    const odd = [kim.connection({ lesson: '../Docker_Intro' }), kim.connection({ lesson: 'x'.repeat(101) })];
    await new Promise((res) => setTimeout(res, 3000));
    expect(await current(kim)).toBeNull();
    for (const c of odd) c.engine?.close();
  }, 120_000);

  it("opens the page's first shell in sandbox:ensure's answer for an id that is not of this sandbox, and refuses a bad one", async () => {
    const jo = await Learner.join(server.url);
    const socket = jo.socket();
    try {
      const bad = await request<SandboxView>(socket, 'sandbox:ensure', { terminal: { cols: 0, rows: 24 } });
      expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      const r = await request<SandboxView & { terminal?: Opened }>(socket, 'sandbox:ensure', {
        terminal: { terminalId: 't-0123456789ab', cols: 80, rows: 24 },
      });
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.terminal?.terminalId).not.toBe('t-0123456789ab');
      await expectOneShellOnceUp(
        new TerminalReader(socket, r.value.terminal!.terminalId, r.value.terminal!.scrollback),
      );
    } finally {
      socket.close();
    }
  }, 120_000);

  it("gives a learner who asks with another learner's terminal id their own shell, none of hers", async () => {
    // The attack: the id is Kay's, real and running; Lee's ensure names it as the terminal to re-open.
    const [kay, lee] = await Promise.all([Learner.join(server.url), Learner.join(server.url)]);
    const kaySocket = kay.socket();
    const leeSocket = lee.socket();
    try {
      const k = await request<SandboxView & { terminal?: Opened }>(kaySocket, 'sandbox:ensure', {
        terminal: { cols: 80, rows: 24 },
      });
      if (!k.ok) throw new Error(k.error.message);
      const kays = new TerminalReader(kaySocket, k.value.terminal!.terminalId, k.value.terminal!.scrollback);
      await kays.firstPrompt();
      kays.type('echo "kay-$((6*7))"\r');
      await kays.waitFor('kay-42');
      const heard: string[] = [];
      leeSocket.on('terminal:output', (o: { data: string }) => heard.push(o.data));
      const l = await request<SandboxView & { terminal?: Opened }>(leeSocket, 'sandbox:ensure', {
        terminal: { terminalId: k.value.terminal!.terminalId, cols: 80, rows: 24 },
      });
      if (!l.ok) throw new Error(l.error.message);
      expect(l.value.id).not.toBe(k.value.id);
      expect(l.value.terminal?.terminalId).not.toBe(k.value.terminal!.terminalId);
      expect(l.value.terminal?.scrollback).not.toContain('kay-42');
      kays.type('echo "still-$((6*7))"\r');
      await kays.waitFor('still-42');
      await new Promise((res) => setTimeout(res, 500));
      expect(heard.join('')).not.toMatch(/kay-42|still-42/);
    } finally {
      kaySocket.close();
      leeSocket.close();
    }
  }, 120_000);

  it('ends when the socket goes without a page taking it', async () => {
    const dan = await Learner.join(server.url);
    const first = dan.socket();
    const r = await request<SandboxView>(first, 'sandbox:ensure', {});
    if (!r.ok) throw new Error(r.error.message);
    await new Promise((res) => setTimeout(res, 1500)); // the shell is up
    first.close();
    await new Promise((res) => setTimeout(res, 1500));
    await expectOneShellOnReturn(dan, r.value.id);
  }, 120_000);

  it('is not the one a page in another language gets: that page gets a shell in its own', async () => {
    const ben = await Learner.join(server.url);
    const socket = ben.socket(); // no language cookie, no Accept-Language: the server guesses English
    try {
      const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
      if (!r.ok) throw new Error(r.error.message);
      const t = await request<Opened>(socket, 'terminal:open', {
        sandboxId: r.value.id,
        cols: 80,
        rows: 24,
        locale: 'ko',
      });
      if (!t.ok) throw new Error(t.error.message);
      const term = new TerminalReader(socket, t.value.terminalId, t.value.scrollback);
      await term.firstPrompt();
      term.type('echo "lang=$DOCKSIDE_LANG"\r');
      await term.waitFor('lang=ko');
    } finally {
      socket.close();
    }
  }, 120_000);

  describe('on a full machine', () => {
    let full: RunningServer;
    beforeAll(async () => {
      full = await startServer({
        DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
        DATABASE_URL: `file:${path.join(dbDir, 'full.sqlite')}`,
        DOCKSIDE_POOL_SIZE: '0',
        DOCKSIDE_MAX_SANDBOXES: '1',
      });
    });
    afterAll(() => full?.stop());

    it("tells the place the connection's start queued the learner at, to the handshake that comes after", async () => {
      const ana = await Learner.join(full.url);
      const first = ana.socket();
      const ben = await Learner.join(full.url);
      try {
        const r = await request<SandboxView>(first, 'sandbox:ensure', {});
        expect(r.ok).toBe(true);
        const connection = ben.connection({ lesson: 'Docker_Intro' });
        try {
          await new Promise((res) => setTimeout(res, 1000)); // queued as the connection opened, nobody to tell
          const socket = connection.socket('/', { auth: { ensure: { lessonId: 'Docker_Intro' } } });
          const place = new Promise((resolve) => socket.once('sandbox:queue', resolve));
          expect(await ensuredInHandshake(socket)).toMatchObject({ ok: false, error: { code: 'queued' } });
          expect(await place).toMatchObject({ position: 1, estimateSeconds: expect.any(Number) });
        } finally {
          connection.engine?.close();
        }
      } finally {
        first.close();
      }
    }, 120_000);
  });

  describe("the lesson page's own request", () => {
    // node:http, not fetch: fetch leaves out the Sec-Fetch-* headers a browser sends.
    const page = (learner: Learner | null, headers: Record<string, string>) =>
      new Promise<{ status: number; cookie?: string }>((resolve, reject) => {
        const req = http.get(
          `${server.url}/lessons/Docker_Intro`,
          { headers: { ...(learner ? { cookie: learner.cookie } : {}), ...headers } },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({ status: res.statusCode!, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }),
            );
          },
        );
        req.on('error', reject);
      });
    const navigation = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

    it("hands a returning learner's sandbox out with its shell as their navigation asks: the socket takes both", async () => {
      const gus = await Learner.join(server.url);
      expect((await page(gus, navigation)).status).toBe(200);
      // Handed out without the page asking; the page loads meanwhile, and the shell does not wait for it.
      await expect.poll(async () => (await current(gus))?.phase, { timeout: 60_000 }).toBe('ready');
      const before = await current(gus);
      await new Promise((r) => setTimeout(r, 2000));
      const socket = gus.socket();
      try {
        const r = await request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' });
        expect(r.ok && r.value.id).toBe(before!.id);
        const t = await request<Opened>(socket, 'terminal:open', { sandboxId: before!.id, cols: 80, rows: 24 });
        if (!t.ok) throw new Error(t.error.message);
        expect(t.value.scrollback).toContain(PROMPT);
        await expectOneShell(new TerminalReader(socket, t.value.terminalId, t.value.scrollback));
      } finally {
        socket.close();
      }
    }, 120_000);

    it('starts one shell when the socket asks while the hand-out the page started is still under way', async () => {
      const hal = await Learner.join(server.url);
      const socket = hal.socket();
      try {
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        const [, r] = await Promise.all([
          page(hal, navigation),
          request<SandboxView>(socket, 'sandbox:ensure', { lessonId: 'Docker_Intro' }),
        ]);
        if (!r.ok) throw new Error(r.error.message);
        const t = await request<Opened>(socket, 'terminal:open', { sandboxId: r.value.id, cols: 80, rows: 24 });
        if (!t.ok) throw new Error(t.error.message);
        const term = new TerminalReader(socket, t.value.terminalId, t.value.scrollback);
        await expectOneShellOnceUp(term);
      } finally {
        socket.close();
      }
    }, 120_000);

    // A request with no session behind it, or that is not the learner opening the page, takes no sandbox.
    it('starts nothing for a fetch, an image request, a prefetch or a first visit', async () => {
      const fay = await Learner.join(server.url);
      await page(fay, {});
      await page(fay, { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' });
      await page(fay, { rsc: '1', 'next-router-prefetch': '1' });
      const { cookie } = await page(null, navigation);
      expect(cookie).toBeTruthy();
      const newcomer = await Learner.join(server.url, cookie);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await current(fay)).toBeNull();
      expect(await current(newcomer)).toBeNull();
    }, 120_000);
  });
});
