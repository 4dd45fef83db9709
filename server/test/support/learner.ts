// A learner as the browser is one: a session cookie, a CSRF token and a socket.io connection.
import { io as connect, Manager, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '@dockside/protocol';

export type LearnerSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export class Learner {
  private constructor(
    readonly url: string,
    readonly cookie: string,
    readonly csrf: string,
    readonly id: string,
  ) {}

  static async join(url: string, cookie?: string): Promise<Learner> {
    const res = await fetch(`${url}/api/session`, { headers: cookie ? { cookie } : {} });
    const set = res.headers.getSetCookie()[0]?.split(';')[0];
    const body = (await res.json()) as { csrfToken: string; learnerId: string };
    return new Learner(url, cookie ?? set!, body.csrfToken, body.learnerId);
  }

  /** `auth`: what the handshake sends (the lesson page's sends its `sandbox:ensure`: `SocketAuth`). */
  socket(auth?: Record<string, unknown>, query?: Record<string, string>): LearnerSocket {
    // forceNew: each learner its own connection (socket.io would share one per URL, with its cookie).
    return connect(this.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: this.cookie },
      ...(auth ? { auth } : {}),
      ...(query ? { query } : {}),
    });
  }

  /**
   * A connection only, with `query` in its address (the lesson page's names its lesson: `SocketQuery`):
   * no namespace's handshake is sent until `.socket('/', …)` asks for one.
   */
  connection(query: Record<string, string>): Manager<ServerToClientEvents, ClientToServerEvents> {
    return new Manager(this.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: this.cookie },
      query,
    });
  }

  fetch(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers: Record<string, string> = { cookie: this.cookie, 'x-csrf-token': this.csrf };
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${this.url}${path}`, {
      ...init,
      headers: { ...headers, ...(init.headers as Record<string, string>) },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  }
}

/** The answer to the `sandbox:ensure` a socket sent in its handshake. */
export function ensuredInHandshake<T>(socket: LearnerSocket): Promise<AckResult<T>> {
  return new Promise((resolve) => socket.once('sandbox:ensured', (r) => resolve(r as AckResult<T>)));
}

type AckResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

export function request<T>(
  socket: LearnerSocket,
  event: 'sandbox:ensure' | 'terminal:open' | 'exercise:prepare',
  payload: unknown,
): Promise<AckResult<T>> {
  return new Promise((resolve) =>
    (socket.emit as (e: string, p: unknown, a: (r: AckResult<T>) => void) => void)(event, payload, resolve),
  );
}

/** Collects a terminal's output and waits for text to appear in it. */
export class TerminalReader {
  text = '';
  private chars = 0;
  constructor(
    private readonly socket: LearnerSocket,
    readonly terminalId: string,
    initial = '',
    private readonly autoAck = true,
  ) {
    this.text = initial;
    socket.on('terminal:output', ({ terminalId: id, data }) => {
      if (id !== this.terminalId) return;
      // Keep the recent output only: waiting scans it, and a flood would make that slow.
      this.text = (this.text + data).slice(-1024 * 1024);
      this.chars += data.length;
      if (this.autoAck) socket.emit('terminal:ack', { terminalId: id, chars: data.length });
    });
  }

  type(data: string): void {
    this.socket.emit('terminal:input', { terminalId: this.terminalId, data });
  }

  get received(): number {
    return this.chars;
  }

  /**
   * Waits for a new terminal's first prompt. Give the reader the scrollback terminal:open answered with:
   * what the shell printed before the server attached is only there.
   */
  firstPrompt(ms = 30_000): Promise<string> {
    return this.waitFor('\x1b]633;A', ms);
  }

  /** Waits for the shell's next prompt (shell integration marks it), as a person waits before typing. */
  prompt(ms = 30_000): Promise<string> {
    const marks = this.text.split('\x1b]633;A').length;
    return this.waitFor({ test: (t: string) => t.split('\x1b]633;A').length > marks } as RegExp, ms);
  }

  async waitFor(pattern: RegExp | string, ms = 60_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      if (typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text)) return this.text;
      if (Date.now() > end)
        throw new Error(`timed out waiting for ${pattern}; terminal shows:\n${this.text.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
