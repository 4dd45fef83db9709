import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Every error a client can cause: a status, a stable code and a message a person can act on. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: Record<string, unknown> | object,
  ) {
    super(message);
  }
}

export function sendError(res: ServerResponse, err: HttpError): void {
  // A limit says when to come back, in the header as well as the body.
  const retryAfter = (err.detail as { retryAfter?: unknown } | undefined)?.retryAfter;
  if (err.status === 429 && typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
  sendJson(res, err.status, { error: { code: err.code, message: err.message }, ...err.detail });
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
