// Port preview: /preview/:sandbox/:port/… reaches a web server in the learner's sandbox (HTTP and
// websockets) through the runtime's `connect`, for the sandbox's owner only. Dockside's own cookies are
// never passed to the learner's server, and it cannot set them.
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/engine';
import { sendError, HttpError } from './respond';
import type { Sessions } from './session';

const PREVIEW = /^\/preview\/([a-z0-9][a-z0-9-]{0,39})\/(\d{1,5})(\/[^?#]*)?$/;
const OWN_COOKIE = /^dockside_/;

type Target = { sandboxId: string; port: number; path: string };

function target(req: IncomingMessage): Target | null | undefined {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const m = PREVIEW.exec(url.pathname);
  if (!url.pathname.startsWith('/preview/')) return undefined;
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { sandboxId: m[1]!, port, path: (m[3] ?? '/') + url.search };
}

function authorise(req: IncomingMessage, t: Target, sessions: Sessions, engine: Engine): HttpError | null {
  const learnerId = sessions.fromRequest(req);
  const owner = engine.manager.ownerOf(t.sandboxId);
  if (owner === undefined) return new HttpError(404, 'not_found', `sandbox ${t.sandboxId} is not running`);
  if (!learnerId || owner !== learnerId)
    return new HttpError(403, 'forbidden', 'this preview belongs to another learner');
  engine.manager.touch(t.sandboxId);
  return null;
}

function upstreamHeaders(headers: IncomingHttpHeaders, port: number): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers, host: `localhost:${port}` };
  const cookies = (headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c && !OWN_COOKIE.test(c));
  if (cookies.length) out.cookie = cookies.join('; ');
  else delete out.cookie;
  return out;
}

function unreachable(t: Target): HttpError {
  return new HttpError(
    502,
    'nothing_listening',
    `nothing answers on port ${t.port} in your sandbox; start a container with -p ${t.port}:… and try again`,
  );
}

/** Handles /preview/*; returns false for other paths. */
export async function handlePreview(
  req: IncomingMessage,
  res: ServerResponse,
  sessions: Sessions,
  engine: Engine,
): Promise<boolean> {
  const t = target(req);
  if (t === undefined) return false;
  if (t === null) {
    sendError(res, new HttpError(400, 'bad_preview', 'a preview address looks like /preview/SANDBOX/PORT/'));
    return true;
  }
  const denied = authorise(req, t, sessions, engine);
  if (denied) {
    sendError(res, denied);
    return true;
  }
  if (!new URL(req.url ?? '/', 'http://x').pathname.match(/^\/preview\/[^/]+\/\d+\//)) {
    res.writeHead(308, { location: `/preview/${t.sandboxId}/${t.port}/` });
    res.end();
    return true;
  }
  let socket: Duplex;
  try {
    socket = await engine.runtime.connect(t.sandboxId, t.port);
  } catch {
    sendError(res, unreachable(t));
    return true;
  }
  const upstream = request({
    createConnection: () => socket as never,
    method: req.method,
    path: t.path,
    headers: upstreamHeaders(req.headers, t.port),
  });
  upstream.on('response', (r) => {
    const headers = { ...r.headers };
    const setCookie = (headers['set-cookie'] ?? []).filter((c) => !OWN_COOKIE.test(c.trim()));
    if (setCookie.length) headers['set-cookie'] = setCookie;
    else delete headers['set-cookie'];
    res.writeHead(r.statusCode ?? 502, headers);
    r.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) sendError(res, unreachable(t));
    else res.destroy();
  });
  req.pipe(upstream);
  return true;
}

/** Websocket upgrades under /preview; returns false for other paths (socket.io handles its own). */
export async function handlePreviewUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  sessions: Sessions,
  engine: Engine,
): Promise<boolean> {
  const t = target(req);
  if (t === undefined) return false;
  const refuse = (status: number, text: string) => {
    client.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  };
  if (t === null) return (refuse(400, 'Bad Request'), true);
  const denied = authorise(req, t, sessions, engine);
  if (denied) return (refuse(denied.status, denied.status === 403 ? 'Forbidden' : 'Not Found'), true);
  let upstream: Duplex;
  try {
    upstream = await engine.runtime.connect(t.sandboxId, t.port);
  } catch {
    return (refuse(502, 'Bad Gateway'), true);
  }
  const headers = upstreamHeaders(req.headers, t.port);
  const lines = Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`));
  upstream.write(`${req.method} ${t.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  if (head.length) upstream.write(head);
  upstream.pipe(client).pipe(upstream);
  const close = () => {
    upstream.destroy();
    client.destroy();
  };
  upstream.on('error', close);
  client.on('error', close);
  return true;
}
