// Malformed input everywhere, property-based (fast-check) and bounded in time: every REST route of the
// route table and every socket.io event of both namespaces, with missing, wrong-typed, oversize and
// made-up fields, as a learner with a sandbox, as an instructor, as a stranger and with no session. Each
// answer is a 4xx (or an error ack) with a stable code that API.md documents and a one-line message;
// the server never answers 5xx for it, keeps answering /healthz, stays alive, and its memory stays
// bounded.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { routes } from '../../src/http/api';
import { MAX_SOCKET_MESSAGE_BYTES } from '../../src/realtime/io';
import type { ClientToServerEvents, InstructorClientToServerEvents, SandboxView } from '@dockside/protocol';
import { REPO_ROOT } from '../../src/paths';
import { busyboxTar } from '../support/images';
import { request, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

type Principal = { cookie?: string; csrf?: string };
type Answer = { ok: boolean; value?: unknown; error?: { code: string; message: string; retryAfter?: number } };

/** The error codes server/API.md documents (its table of codes). */
const DOCUMENTED = new Set(
  [...readFileSync(path.join(REPO_ROOT, 'server', 'API.md'), 'utf8').matchAll(/^\| `([a-z_]+)`/gm)].map((m) => m[1]!),
);

/** A route's path pattern as a template: literal text and its capture groups, in order. */
function template(re: RegExp): (string | RegExp)[] {
  const src = re.source.replace(/^\^/, '').replace(/\$$/, '');
  const parts: (string | RegExp)[] = [];
  let literal = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') literal += src[++i];
    else if (c === '(') {
      let depth = 1;
      let j = i + 1;
      let inClass = false;
      for (; depth > 0; j++) {
        const d = src[j]!;
        if (d === '\\') j++;
        else if (inClass) inClass = d !== ']';
        else if (d === '[') inClass = true;
        else if (d === '(') depth++;
        else if (d === ')') depth--;
      }
      parts.push(literal, new RegExp(`^${src.slice(i + 1, j - 1)}$`));
      literal = '';
      i = j - 1;
    } else literal += c;
  }
  return [...parts, literal];
}

const oneLine = (s: unknown) => typeof s === 'string' && s.length > 0 && s.length <= 300 && !/[\r\n]/.test(s);

function expectError(where: string, status: number, body: unknown, headers: Headers): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  expect(error, `${where}: ${status} without an error body`).toBeDefined();
  const code = String(error!.code);
  expect(code, `${where}: code`).toMatch(/^[a-z][a-z_]*$/);
  expect(DOCUMENTED.has(code), `${where}: ${code} is not in API.md's table of error codes`).toBe(true);
  expect(oneLine(error!.message), `${where}: message ${JSON.stringify(error!.message)}`).toBe(true);
  if (status === 429) expect(Number(headers.get('retry-after')), `${where}: Retry-After`).toBeGreaterThan(0);
  return code;
}

/** What a made-up field may hold. */
const value = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.constantFrom(
    'x'.repeat(70_000),
    '/workspace/../../etc/passwd',
    '/workspace/\u0000',
    '\u202e\u0007\r\n',
    '2026-13-45T99:99:99Z',
    -1,
    1e308,
    '__proto__',
  ),
);
const FIELDS = [
  ...['content', 'etag', 'path', 'type', 'from', 'to', 'displayName', 'index', 'code', 'email', 'password'],
  ...['name', 'invitation', 'setupCode', 'title', 'lessonIds', 'seatLimit', 'durationMinutes', 'startsAt'],
  ...['locale', 'keepSandboxes', 'minutes', 'text', 'learnerId', 'lessonId', '__proto__', 'constructor'],
];
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 6,
    arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 4 }).map((o) => JSON.stringify(o)),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }) }, // not JSON
  fc.constantFrom('{"content":', '[', 'null', '{"path":"/workspace/a","type":"file"}'),
  fc.constant(JSON.stringify({ content: 'y'.repeat(5 * 1024 * 1024) })), // over every body limit
);
const query = fc.option(
  fc.dictionary(
    fc.constantFrom('path', 'mode', 'x'),
    fc.oneof(
      fc.string({ maxLength: 30 }),
      value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
    ),
    {
      maxKeys: 2,
    },
  ),
  { nil: undefined },
);

describe.runIf(sandboxesAvailable())('malformed input to every route and event', () => {
  const SETUP = randomBytes(12).toString('hex');
  let server: RunningServer;
  const p: Record<'ana' | 'kim' | 'stranger' | 'anonymous' | 'forged', Principal> = {
    ana: {},
    kim: {},
    stranger: {},
    anonymous: {},
    forged: {},
  };
  const known: string[] = ['Docker_Intro', 'your-engine', '0', '1', 'bb', 'bb:latest', 'box'];
  let anaSocket: LearnerSocket;
  let kimSocket: Socket;
  let terminalId = '';
  let rssBefore = 0;
  const seen = new Set<string>();

  const rss = () =>
    Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${server.serverPid()}/status`, 'utf8'))![1]) * 1024;
  const session = async (): Promise<Principal> => {
    const res = await fetch(`${server.url}/api/session`);
    return {
      cookie: res.headers.getSetCookie()[0]!.split(';')[0]!,
      csrf: ((await res.json()) as { csrfToken: string }).csrfToken,
    };
  };
  const call = (who: Principal, method: string, url: string, payload?: string) =>
    fetch(`${server.url}${url}`, {
      method,
      headers: {
        ...(who.cookie ? { cookie: who.cookie } : {}),
        ...(who.csrf ? { 'x-csrf-token': who.csrf } : {}),
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: payload,
    });
  const socketOf = async (who: Principal, nsp = ''): Promise<Socket> => {
    const s = connect(`${server.url}${nsp}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: who.cookie! },
    });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    return s;
  };
  const alive = async () => {
    expect(server.child.exitCode, `the server exited:\n${server.output().slice(-3000)}`).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-malformed-'));
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: `file:${dir}/db.sqlite`,
      DOCKSIDE_SETUP_CODE: SETUP,
      DOCKSIDE_MAX_SANDBOXES: '3',
      // The one start is the fixture's own: resets are refused, so the sandbox stays for the whole run.
      DOCKSIDE_SANDBOX_STARTS_PER_HOUR: '1',
    });
    [p.ana, p.kim, p.stranger] = await Promise.all([session(), session(), session()]);
    p.forged = { cookie: p.ana.cookie, csrf: 'forged' };
    const signup = await call(
      p.kim,
      'POST',
      '/api/instructors/signup',
      JSON.stringify({ email: 'kim@example.com', password: 'correct horse battery', setupCode: SETUP }),
    );
    expect(signup.status).toBe(200);
    const instructorCookie = signup.headers.getSetCookie().find((c) => c.startsWith('dockside_instructor='))!;
    p.kim.cookie = `${p.kim.cookie}; ${instructorCookie.split(';')[0]}`;
    const workshop = (await (
      await call(
        p.kim,
        'POST',
        '/api/workshops',
        JSON.stringify({ title: 'W', lessonIds: ['Docker_Intro'], seatLimit: 1 }),
      )
    ).json()) as { id: string; joinCode: string };
    expect((await call(p.kim, 'POST', `/api/workshops/${workshop.id}/open`)).status).toBe(200);
    const ben = await session();
    expect(
      (await call(ben, 'POST', '/api/join', JSON.stringify({ code: workshop.joinCode, displayName: 'Ben' }))).status,
    ).toBe(200);
    const benSocket = (await socketOf(ben)) as LearnerSocket;
    anaSocket = (await socketOf(p.ana)) as LearnerSocket;
    const [benBox, anaBox] = await Promise.all([
      request<SandboxView>(benSocket, 'sandbox:ensure', {}),
      request<SandboxView>(anaSocket, 'sandbox:ensure', {}),
    ]);
    if (!benBox.ok || !anaBox.ok) throw new Error('no sandbox for the fixture');
    const open = await request<{ terminalId: string }>(anaSocket, 'terminal:open', {
      sandboxId: anaBox.value.id,
      cols: 80,
      rows: 24,
    });
    if (!open.ok) throw new Error(open.error.message);
    terminalId = open.value.terminalId;
    benSocket.close();
    // An image and a container in Ana's engine, for the Layers routes to find.
    const rt = new NativeRuntime(SHARED_DATA_DIR);
    await rt.exec(anaBox.value.id, ['docker', 'import', '-', 'bb'], { stdin: busyboxTar() });
    await rt.exec(anaBox.value.id, ['docker', 'create', '--name', 'box', 'bb', 'true']);
    kimSocket = await socketOf(p.kim, '/instructor');
    const benId = ((await (await call(ben, 'GET', '/api/session')).json()) as { learnerId: string }).learnerId;
    known.push(anaBox.value.id, benBox.value.id, workshop.id, benId, terminalId);
    rssBefore = rss();
  }, 180_000);

  afterAll(async () => {
    anaSocket?.close();
    kimSocket?.close();
    await server?.stop();
  });

  it('answers every REST route, whatever it is sent, with a 4xx, a documented code and a one-line message', async () => {
    // A time budget for the whole table, shared out among the routes still to go.
    const deadline = Date.now() + 25_000;
    for (const [i, route] of routes.entries()) {
      const started = Date.now();
      const parts = template(route.path);
      // The fixture's sandbox and workshop stay: these routes get made-up ids only, signing out no session.
      const destructive = /\/(end|reset|signout)\$$/.test(route.path.source);
      const segment = (re: RegExp) => {
        const real = destructive ? [] : known.filter((k) => re.test(k));
        return real.length
          ? fc.oneof(fc.constantFrom(...real), fc.stringMatching(re, { size: 'small' }))
          : fc.stringMatching(re, { size: 'small' });
      };
      const url = fc
        .tuple(...parts.map((part) => (typeof part === 'string' ? fc.constant(part) : segment(part))))
        .map((xs) => xs.join(''));
      const who = fc.constantFrom<keyof typeof p>('ana', 'ana', 'kim', 'kim', 'stranger', 'anonymous', 'forged');
      const method = fc.oneof(
        { weight: 9, arbitrary: fc.constant(route.method) },
        fc.constantFrom('GET', 'PUT', 'DELETE'),
      );
      await fc.assert(
        fc.asyncProperty(url, query, body, who, method, async (u, q, b, w, m) => {
          expect(route.path.test(u), `${u} is a path of ${route.path}`).toBe(true);
          const principal = destructive && w === 'kim' ? { ...p.kim, cookie: p.kim.cookie!.split(';')[0] } : p[w];
          const target = q ? `${u}?${new URLSearchParams(q)}` : u;
          const res = await call(principal, m, target, m === 'GET' ? undefined : b);
          const text = await res.text();
          const where = `${m} ${target.slice(0, 200)} as ${w} with ${String(b).slice(0, 200)}`;
          expect(res.status, `${where}: ${text.slice(0, 300)}`).toBeLessThan(500);
          if (res.status >= 400) seen.add(expectError(where, res.status, JSON.parse(text), res.headers));
        }),
        {
          numRuns: 25,
          interruptAfterTimeLimit: Math.max(1000, (deadline - Date.now()) / (routes.length - i)),
          markInterruptAsFailure: false,
        },
      );
      if (process.env.DOCKSIDE_FUZZ_VERBOSE)
        console.log(`${route.method} ${route.path.source}: ${Date.now() - started} ms`);
    }
    await alive();
  });

  it('answers a reference the engine would redirect (an empty or trailing component) as not found', async () => {
    // The fuzz found these once by chance: the engine answered `0/` with a redirect the server called a fault.
    const box = known.find((k) => k.startsWith('sb-'))!;
    for (const u of [
      `/api/sandboxes/${box}/containers/0//changes`,
      `/api/sandboxes/${box}/containers/box//changes`,
      `/api/sandboxes/${box}/images/bb//layers`,
      `/api/sandboxes/${box}/images/a//b/analysis`,
    ]) {
      const res = await call(p.ana, 'GET', u);
      expect(res.status, u).toBe(404);
      seen.add(expectError(`GET ${u}`, res.status, await res.json(), res.headers));
    }
    // A well-formed one still reaches the engine.
    expect((await call(p.ana, 'GET', `/api/sandboxes/${box}/containers/box/changes`)).status).toBe(200);
  });

  it('answers an unknown or oversize path and a bad method the same way', async () => {
    const path = fc.oneof(
      fc.string({ maxLength: 3000 }).map((s) => `/api/${encodeURIComponent(s)}`),
      fc.constantFrom(`/api/${'a/'.repeat(2000)}`, '/api/%E0%A4%A', '/api/sandboxes/%00/file', '/api//session'),
    );
    await fc.assert(
      fc.asyncProperty(path, fc.constantFrom('GET', 'POST', 'PATCH', 'OPTIONS'), async (u, m) => {
        const res = await call(p.ana, m, u, m === 'GET' ? undefined : '{}');
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        seen.add(expectError(`${m} ${u.slice(0, 100)}`, res.status, await res.json(), res.headers));
      }),
      { numRuns: 40, interruptAfterTimeLimit: 3000 },
    );
    await alive();
  });

  it('answers a body over the limit with its 413, never a reset connection', async () => {
    // 5 MB to a route that takes 64 kB: the fuzz met a reset here once in a while, as the server stopped
    // reading mid-body and closed the socket on the rest.
    const big = JSON.stringify({ content: 'y'.repeat(5 * 1024 * 1024) });
    for (let i = 0; i < 10; i++) {
      const res = await call(p.ana, 'PATCH', '/api/me', big);
      expect(res.status).toBe(413);
      seen.add(expectError('PATCH /api/me (5 MB)', res.status, await res.json(), res.headers));
    }
    await alive();
  });

  it('answers an address over 16 KiB with its 431 even while a big body follows, never a reset connection', async () => {
    // The fuzz met `write ECONNRESET` on a 70 kB query with a 5 MB body: the server answered, told of
    // the parser's next failure it closed the socket, and the unread body reset the connection.
    const big = JSON.stringify({ content: 'y'.repeat(5 * 1024 * 1024) });
    for (let i = 0; i < 10; i++) {
      const res = await call(p.ana, 'POST', `/api/workshops/_/end?path=${'x'.repeat(70_000)}`, big);
      expect(res.status).toBe(431);
      seen.add(expectError('POST with a 70 kB query (5 MB)', res.status, await res.json(), res.headers));
    }
    await alive();
  });

  it('answers a request it refuses before reading its body (no token, another origin) with that answer, never a broken pipe', async () => {
    // The fuzz met `write EPIPE` on POST /api/join without a token: the 403 went out, Node closed the
    // connection with the body unread, and the client was still sending it.
    const big = JSON.stringify({ code: 'x'.repeat(2 * 1024 * 1024) });
    for (let i = 0; i < 5; i++) {
      const noToken = await call(p.stranger, 'POST', '/api/join', big);
      expect([403, 413]).toContain(noToken.status); // refused for the token, or for the size first
      seen.add(expectError('POST /api/join (2 MB, no token)', noToken.status, await noToken.json(), noToken.headers));
      const res = await fetch(`${server.url}/api/join`, {
        method: 'POST',
        headers: { origin: 'https://elsewhere.example', 'content-type': 'application/json' },
        body: big,
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('cross_origin');
    }
    await alive();
  });

  // Every event of both namespaces, plus ones nobody handles; a payload, none, several; with an ack or not.
  const learnerEvents = [
    'session:whoami',
    'sandbox:ensure',
    'terminal:open',
    'terminal:input',
    'terminal:resize',
    'terminal:ack',
    'terminal:close',
    'lesson:focus',
  ] as const satisfies readonly (keyof ClientToServerEvents)[];
  const instructorEvents = [
    'dashboard:watch',
    'mirror:open',
    'mirror:close',
  ] as const satisfies readonly (keyof InstructorClientToServerEvents)[];
  const unknownEvents = ['nope', 'constructor', '__proto__', 'toString', 'sandbox:destroy', 'mirror:input'];

  /** Sends an event; with an ack, waits for the answer and checks it is well formed. */
  async function send(socket: Socket, event: string, args: unknown[], withAck: boolean): Promise<void> {
    if (!withAck) {
      socket.emit(event, ...args);
      return;
    }
    const answer = await new Promise<Answer | 'none'>((resolve) => {
      const timer = setTimeout(() => resolve('none'), 5000);
      socket.emit(event, ...args, (a: Answer) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
    expectWellFormed(`${event}(${JSON.stringify(args).slice(0, 200)})`, answer);
  }

  /** One answer, `{ ok }` or a documented code with a one-line message. */
  function expectWellFormed(where: string, answer: Answer | 'none'): void {
    expect(answer, `${where}: no answer`).not.toBe('none');
    const a = answer as Answer;
    expect(typeof a.ok, where).toBe('boolean');
    if (!a.ok) {
      expect(a.error?.code, where).toMatch(/^[a-z][a-z_]*$/);
      expect(DOCUMENTED.has(a.error!.code), `${where}: ${a.error!.code} is not in API.md's table`).toBe(true);
      expect(oneLine(a.error?.message), `${where}: ${JSON.stringify(a.error?.message)}`).toBe(true);
      seen.add(a.error!.code);
    }
  }

  // Each event's own fields, each sometimes right (a real id, a sane number) and sometimes not.
  const FIELDS_OF: Record<string, string[]> = {
    'sandbox:ensure': ['lessonId', 'terminal'],
    'terminal:open': ['sandboxId', 'terminalId', 'cols', 'rows'],
    'terminal:input': ['terminalId', 'data'],
    'terminal:resize': ['terminalId', 'cols', 'rows'],
    'terminal:ack': ['terminalId', 'chars'],
    'terminal:close': ['terminalId'],
    'lesson:focus': ['lessonId', 'stepId'],
    'dashboard:watch': ['workshopId'],
    'mirror:open': ['workshopId', 'learnerId'],
    'mirror:close': ['learnerId'],
  };
  const field = (name: string) =>
    name === 'data'
      ? fc.oneof(fc.stringMatching(/^[a-z ]{0,20}$/), fc.constant(7), fc.constant('d'.repeat(70_000)))
      : fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...known) },
          { weight: 2, arbitrary: fc.integer({ min: -5, max: 600 }) },
          value,
        );
  const shaped = (event: string) =>
    fc.record(
      Object.fromEntries((Object.hasOwn(FIELDS_OF, event) ? FIELDS_OF[event]! : ['x']).map((f) => [f, field(f)])),
      { requiredKeys: [] },
    );
  const payload = (event: string) =>
    fc.oneof(
      { weight: 6, arbitrary: shaped(event) },
      {
        weight: 4,
        arbitrary: fc.dictionary(
          fc.constantFrom(
            ...FIELDS,
            'sandboxId',
            'terminalId',
            'workshopId',
            'cols',
            'rows',
            'data',
            'chars',
            'stepId',
          ),
          fc.oneof(value, fc.constantFrom(...known)),
          { maxKeys: 4 },
        ),
      },
      fc.jsonValue({ maxDepth: 3 }),
      fc.constant(undefined),
      fc.string({ maxLength: 2000 }),
    );

  for (const [name, events, socketOf] of [
    ['learner', [...learnerEvents, ...unknownEvents], () => anaSocket as unknown as Socket],
    ['instructor', [...instructorEvents, ...unknownEvents], () => kimSocket],
  ] as const)
    it(`answers every ${name} event, whatever it is sent, with an error ack of a documented code`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .constantFrom(...events)
            .chain((event) => fc.tuple(fc.constant(event), fc.array(payload(event), { maxLength: 2 }), fc.boolean()))
            // Two 70 kB payloads in one message pass the limit, and that closes the socket by design (the
            // last test): the fuzz keeps under it, as CI once met it closing Ana's socket mid-run.
            .filter(([, args]) => Buffer.byteLength(JSON.stringify(args)) < MAX_SOCKET_MESSAGE_BYTES - 1024),
          async ([event, args, withAck]) => {
            await send(socketOf(), event, args, withAck);
          },
        ),
        { numRuns: 150, interruptAfterTimeLimit: 8000 },
      );
      expect(socketOf().connected).toBe(true);
      await alive();
    });

  it("answers a sandbox:ensure sent in the socket's handshake, whatever it is, once, in a documented way; the socket stays", async () => {
    await fc.assert(
      fc.asyncProperty(
        payload('sandbox:ensure').filter((e) => e !== undefined),
        async (ensure) => {
          const s = connect(server.url, {
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
            extraHeaders: { cookie: p.ana.cookie! },
            auth: { ensure },
          });
          try {
            const answer = await new Promise<Answer | 'none'>((resolve) => {
              const timer = setTimeout(() => resolve('none'), 10_000);
              s.once('sandbox:ensured', (a: Answer) => (clearTimeout(timer), resolve(a)));
            });
            expectWellFormed(`handshake ensure ${JSON.stringify(ensure).slice(0, 200)}`, answer);
            expect(s.connected).toBe(true);
          } finally {
            s.close();
          }
        },
      ),
      { numRuns: 25, interruptAfterTimeLimit: 8000 },
    );
    await alive();
  });

  it('the instructor socket answers a bad request the way the learner socket does', async () => {
    const ask = (s: Socket, event: string, arg: unknown) =>
      new Promise<Answer>((resolve) => s.emit(event, arg, resolve));
    const learner = await ask(anaSocket as unknown as Socket, 'lesson:focus', { lessonId: 7 });
    const instructor = await ask(kimSocket, 'dashboard:watch', { workshopId: 7 });
    expect(learner).toEqual({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringMatching(/^lessonId: /) },
    });
    expect(instructor).toEqual({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringMatching(/^workshopId: /) },
    });
    expect(await ask(kimSocket, 'mirror:open', 'nonsense')).toMatchObject({
      ok: false,
      error: { code: 'invalid_request' },
    });
  });

  it('an oversize socket message closes only that connection; the server and its memory stay', async () => {
    const s = await socketOf(p.stranger);
    const closed = new Promise((r) => s.once('disconnect', r));
    s.emit('terminal:input', { terminalId, data: 'z'.repeat(512 * 1024) });
    await closed;
    expect(anaSocket.connected).toBe(true);
    await alive();
    // What the whole run left behind: bounded, not a copy of what was sent.
    expect(rss() - rssBefore).toBeLessThan(256 * 1024 * 1024);
    // The run reached past the first checks: it was refused for what it sent, not only for who it was.
    expect([...seen]).toEqual(
      expect.arrayContaining(['invalid_request', 'invalid_json', 'not_found', 'forbidden', 'csrf', 'too_large']),
    );
    expect([...seen]).toEqual(expect.arrayContaining(['method_not_allowed', 'unknown_event', 'rate_limited']));
  });
});
