// @vitest-environment happy-dom
// The early socket: the lesson it asks for in its handshake, and the first terminal its `sandbox:ensure`
// asks for too — what the page keeps of that terminal until a session takes it, and what a reload asks
// for. The socket is a stand-in that gives the handshake's payload and lets the test answer; the real
// exchange is in server/test/engine/first-shell.test.ts and the e2e suite.
import { afterEach, describe, expect, it, vi } from 'vitest';

type Handler = (...args: unknown[]) => void;
const sent: { event: string; args: unknown[] }[] = [];
const handlers = new Map<string, Set<Handler>>();
const fakeSocket = {
  connected: true,
  auth: undefined as unknown,
  // The manager's options: the address's query each connection is made with.
  io: { opts: { query: undefined as unknown } },
  once: (event: string, fn: Handler) => {
    const once: Handler = (...args) => (fakeSocket.off(event, once), fn(...args));
    fakeSocket.on(event, once);
  },
  on: (event: string, fn: Handler) => void (handlers.get(event) ?? handlers.set(event, new Set()).get(event)!).add(fn),
  off: (event: string, fn: Handler) => void handlers.get(event)?.delete(fn),
  emit: (event: string, ...args: unknown[]) => void sent.push({ event, args }),
};
const serverSends = (event: string, payload: unknown) => handlers.get(event)?.forEach((fn) => fn(payload));
vi.mock('../../lib/socket', () => ({
  openSocket: (query: unknown) => ((fakeSocket.io.opts.query = query), fakeSocket),
}));

const { connectEarly, lessonOfPath } = await import('./earlySocket');
const { loadTerminals, saveTerminals, saveTerminalSize } = await import('./terminalStore');

afterEach(() => {
  delete window.__docksideEarly;
  sent.length = 0;
  handlers.clear();
  localStorage.clear();
});

// The early socket asks for the sandbox of the lesson in the page's address, and only on a lesson page.
describe('lessonOfPath', () => {
  it("is the lesson of a lesson page's address", () => {
    expect(lessonOfPath('/lessons/Docker_Intro')).toBe('Docker_Intro');
    expect(lessonOfPath('/lessons/Docker_Intro/')).toBe('Docker_Intro');
    expect(lessonOfPath('/lessons/caf%C3%A9')).toBe('café');
  });
  it('is null elsewhere and for an address that does not decode', () => {
    expect(lessonOfPath('/')).toBeNull();
    expect(lessonOfPath('/lessons')).toBeNull();
    expect(lessonOfPath('/lessons/a/b')).toBeNull();
    expect(lessonOfPath('/embed')).toBeNull();
    expect(lessonOfPath('/lessons/%E0%A4%A')).toBeNull();
  });
});

/** What the socket's handshake sends as its `auth`, as socket.io asks for it on each connection. */
function handshake(): { ensure?: { lessonId: string; terminal: Record<string, unknown> } } {
  let given: unknown;
  (fakeSocket.auth as (give: (auth: unknown) => void) => void)((a) => (given = a));
  return given as ReturnType<typeof handshake>;
}

/** Opens the early socket on a lesson page and returns its ensure, and a way to answer it. */
function lessonPage() {
  window.history.replaceState(null, '', '/lessons/Docker_Intro');
  const ensure = connectEarly()!.ensure!;
  const answer = (r: unknown) => serverSends('sandbox:ensured', r);
  return { ensure, request: handshake().ensure!, answer };
}
const ready = { id: 'sb-aaaaaaaaaaaa', phase: 'ready' };

describe("the early ensure, in the socket's handshake", () => {
  it("asks for the page's lesson on every connection until it has the answer, then on none", async () => {
    const { ensure, request, answer } = lessonPage();
    expect(request.lessonId).toBe('Docker_Intro');
    // The lesson in the socket's address too: the server starts on it as the connection opens.
    expect(fakeSocket.io.opts.query).toEqual({ lesson: 'Docker_Intro' });
    expect(sent).toEqual([]); // nothing waits for the connection
    expect(handshake().ensure).toEqual(request); // a connection that failed asks again
    answer({ ok: true, value: ready });
    expect(await ensure.answer).toEqual({ ok: true, value: ready });
    expect(handshake()).toEqual({}); // a reconnection does not
    expect(fakeSocket.io.opts.query).toEqual({});
    answer({ ok: true, value: { ...ready, id: 'sb-bbbbbbbbbbbb' } });
    expect(ensure.answered).toEqual({ ok: true, value: ready }); // the first answer only
  });
});

describe("the early ensure's first terminal", () => {
  it('is asked for at the last size, with the id the page had; a first visit asks for a new one at 80 × 24', () => {
    expect(lessonPage().request.terminal).toEqual({ terminalId: undefined, cols: 80, rows: 24, locale: 'en' });
    delete window.__docksideEarly;
    handlers.clear();
    saveTerminals('sb-old', [
      { key: '1', id: 't-111111111111' },
      { key: '2', id: 't-222222222222' },
    ]);
    saveTerminalSize(101, 33);
    expect(lessonPage().request.terminal).toEqual({ terminalId: 't-111111111111', cols: 101, rows: 33, locale: 'en' });
  });

  it('keeps what the terminal prints after the answer until it is taken, once; the answer is the sandbox alone', async () => {
    const { ensure, answer } = lessonPage();
    answer({ ok: true, value: { ...ready, terminal: { terminalId: 't-aaaaaaaaaaaa', scrollback: 'welcome $ ' } } });
    expect(await ensure.answer).toEqual({ ok: true, value: ready });
    serverSends('terminal:output', { terminalId: 't-aaaaaaaaaaaa', data: 'more' });
    serverSends('terminal:output', { terminalId: 't-bbbbbbbbbbbb', data: 'not this one' });
    // The first tab re-opens this one should the boot script not take it.
    expect(loadTerminals(ready.id)[0]!.id).toBe('t-aaaaaaaaaaaa');
    expect(ensure.takeTerminal()).toEqual({
      sandboxId: ready.id,
      terminalId: 't-aaaaaaaaaaaa',
      scrollback: 'welcome $ more',
      unacked: 4,
      exited: false,
      cols: 80,
      rows: 24,
    });
    expect(ensure.takeTerminal()).toBeNull();
    expect(handlers.get('terminal:output')?.size ?? 0).toBe(0);
  });

  it('is dropped, and no longer kept, once the player has the answer', async () => {
    const { ensure, answer } = lessonPage();
    answer({ ok: true, value: { ...ready, terminal: { terminalId: 't-aaaaaaaaaaaa', scrollback: '' } } });
    await ensure.answer;
    ensure.stop();
    expect(handlers.get('terminal:output')?.size ?? 0).toBe(0);
    expect(ensure.takeTerminal()).toBeNull();
  });

  it('is nothing when the answer has none (refused, or without it)', async () => {
    const { ensure, answer } = lessonPage();
    answer({ ok: false, error: { code: 'queued', message: 'the machine is full' } });
    expect(await ensure.answer).toMatchObject({ ok: false });
    expect(ensure.takeTerminal()).toBeNull();
    expect(handlers.get('terminal:output')?.size ?? 0).toBe(0);
  });
});
