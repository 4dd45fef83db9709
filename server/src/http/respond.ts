import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { DocksideError } from '../errors';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** An error of the HTTP layer's own (a route, a body, a session): any DocksideError answers alike. */
export class HttpError extends DocksideError {}

export function sendError(res: ServerResponse, err: DocksideError): void {
  // A limit says when to come back, in the header as well as the body.
  const retryAfter = err.retryAfter;
  if (err.status === 429 && retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
  sendJson(res, err.status, { error: { code: err.code, message: err.message }, ...err.detail });
}

/** What a client still sends after its answer is read on for, and thrown away; past it, the connection goes. */
export const DRAIN_LIMIT = 16 * 1024 * 1024;
// How long a connection Node could not parse is read on (see DRAIN_LIMIT) after its answer.
const LINGER_MS = 5000;
// Sockets already answered: the parser goes on failing on what follows, and each failure is told again.
const answered = new WeakSet<Duplex>();

/**
 * A request Node could not parse (headers over 16 KiB, not HTTP, too slow) answers like any other error,
 * in JSON with a code, instead of Node's bare status line.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET') return void socket.destroy();
  if (answered.has(socket)) return;
  if (!socket.writable) return void socket.destroy();
  answered.add(socket);
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'too_large', 'the request line and headers are larger than 16 KiB; send less']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'timeout', 'the request took too long to arrive; try again']
        : [400, 'bad_request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ error: { code, message } });
  // Closing with data unread makes the kernel reset the connection: a client still sending a body (after a
  // 70 kB address) would see the reset instead of the answer.
  let dropped = 0;
  socket.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_LIMIT) socket.destroy();
  });
  const linger = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(linger));
  socket.resume();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** A non-JSON answer (a CSV download). */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly body: string,
    readonly filename?: string,
  ) {}
}

export function sendRaw(res: ServerResponse, raw: RawBody): void {
  res.writeHead(200, {
    'content-type': raw.contentType,
    'content-length': Buffer.byteLength(raw.body),
    'cache-control': 'no-store',
    ...(raw.filename
      ? { 'content-disposition': `attachment; filename="${raw.filename.replace(/[^\w.-]/g, '_')}"` }
      : {}),
  });
  res.end(raw.body);
}
