// Port preview: http://<port>-<sandbox>.<preview suffix>/… reaches a web server in the learner's sandbox
// (HTTP and websockets) through the runtime's `connect`, for the sandbox's owner only. Each preview is
// its own origin, apart from the app's: a learner's page there cannot read the app's answers, use its
// cookies or register a service worker over it. The owner opens it with a one-time link from the app
// (previewAccess.ts); Dockside's own cookies never reach the learner's server, and nothing the learner's
// server answers can set cookies, widen a service worker's scope or otherwise reach beyond its preview.
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline, type Duplex } from 'node:stream';
import { SandboxAccessError, type Engine } from '../engine/engine';
import type { Origins, PreviewTarget } from './origins';
import { COOKIE_MS, PREVIEW_COOKIE, type Grant, type Locale, type PreviewAccess, type Refusal } from './previewAccess';
import { localeFrom, sendPreviewProblem, type PreviewProblem } from './previewPage';

export type PreviewDeps = { origins: Origins; access: PreviewAccess; engine: Engine };

/** Where the owner's one-time link lands on the preview's host; the learner's server never sees it. */
export const OPEN_PATH = '/__dockside/open';
const OWN_COOKIE = /^dockside_/;
/**
 * Answer headers of the learner's server that would reach past its own preview: cookies (a Domain
 * attribute reaches the app's host), a wider service worker scope, clearing the site's data, HSTS and
 * alternative services for the host, reporting set-ups.
 */
const STRIPPED = new Set([
  'set-cookie',
  'set-cookie2',
  'service-worker-allowed',
  'clear-site-data',
  'strict-transport-security',
  'alt-svc',
  'nel',
  'report-to',
  'reporting-endpoints',
  'public-key-pins',
  'public-key-pins-report-only',
]);

/** The learner's connection's own (closed after each answer), not the browser's with this server. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive']);

const REFUSED: Record<Refusal, PreviewProblem> = {
  missing: 'closed',
  elsewhere: 'closed',
  forged: 'forged',
  expired: 'expired',
  used: 'expired',
};

type Allowed = { ok: true; grant: Grant } | { ok: false; problem: PreviewProblem; locale: Locale };

/** The sandbox's owner, still, is the one the capability was given to. */
async function owner(t: PreviewTarget, grant: Grant, engine: Engine): Promise<Allowed> {
  try {
    await engine.authorizeAnyReplica(grant.learnerId, t.sandboxId);
    return { ok: true, grant };
  } catch (err) {
    if (!(err instanceof SandboxAccessError)) throw err;
    return { ok: false, problem: err.reason === 'not_running' ? 'not_running' : 'not_yours', locale: grant.locale };
  }
}

/**
 * The preview cookie that opens this host. Every one sent counts, not just the first: a page on another
 * preview host can set one for all of them (Domain=<suffix>), which must not hide this host's own.
 */
function grantFromCookies(req: IncomingMessage, t: PreviewTarget, access: PreviewAccess): Grant | Refusal {
  let refusal: Refusal = 'missing';
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== PREVIEW_COOKIE) continue;
    const grant = access.fromCookie(part.slice(eq + 1).trim(), t);
    if (typeof grant !== 'string') return grant;
    if (refusal === 'missing' || refusal === 'elsewhere') refusal = grant;
  }
  return refusal;
}

function allowed(req: IncomingMessage, t: PreviewTarget, deps: PreviewDeps): Promise<Allowed> | Allowed {
  const grant = grantFromCookies(req, t, deps.access);
  if (typeof grant === 'string')
    return { ok: false, problem: REFUSED[grant], locale: localeFrom(req.headers['accept-language']) };
  return owner(t, grant, deps.engine);
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

function problem(res: ServerResponse, deps: PreviewDeps, t: PreviewTarget | null, p: PreviewProblem, locale: Locale) {
  sendPreviewProblem(res, p, { locale, port: t?.port ?? 0, appUrl: deps.origins.app });
}

/** The owner's link: its capability becomes this preview host's cookie, then the clean address. */
async function redeem(req: IncomingMessage, res: ServerResponse, t: PreviewTarget, deps: PreviewDeps): Promise<void> {
  const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
  const grant = deps.access.redeem(token, t);
  if (typeof grant === 'string')
    return problem(
      res,
      deps,
      t,
      REFUSED[grant],
      deps.access.localeOf(token) ?? localeFrom(req.headers['accept-language']),
    );
  const ok = await owner(t, grant, deps.engine);
  if (!ok.ok) return problem(res, deps, t, ok.problem, ok.locale);
  // Host-only (no Domain): no other preview, nor the app, ever receives it.
  const secure = deps.origins.previewSecure ? '; Secure' : '';
  res.writeHead(303, {
    location: '/',
    'set-cookie': `${PREVIEW_COOKIE}=${deps.access.cookie(t, grant)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${COOKIE_MS / 1000}${secure}`,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  res.end();
}

/** Handles requests for a preview host; returns false for the app's. */
export async function handlePreview(req: IncomingMessage, res: ServerResponse, deps: PreviewDeps): Promise<boolean> {
  const t = deps.origins.previewTarget(req);
  if (t === undefined) return false;
  if (t === null) {
    problem(res, deps, null, 'unknown', localeFrom(req.headers['accept-language']));
    return true;
  }
  if (new URL(req.url ?? '/', 'http://x').pathname === OPEN_PATH) {
    await redeem(req, res, t, deps);
    return true;
  }
  const ok = await allowed(req, t, deps);
  if (!ok.ok) {
    problem(res, deps, t, ok.problem, ok.locale);
    return true;
  }
  // A service worker would outlive the visit in this browser (a shared lab computer); previews get none.
  if (req.headers['service-worker'] === 'script') {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end('service workers are not available in port previews\n');
    return true;
  }
  let socket: Duplex;
  try {
    socket = await deps.engine.connect(t.sandboxId, t.port);
  } catch {
    problem(res, deps, t, 'nothing_listening', ok.grant.locale);
    return true;
  }
  // While the request lives, the connection's errors reach `upstream` (below). Once the answer is in,
  // Node's client lets go of the connection, whose process may still end with an error of its own (it
  // exits when the learner's server closes, before its input is ended: "Premature close"); the exchange
  // is over by then, and such an error must not become an uncaught exception.
  socket.on('error', () => {});
  if (res.destroyed) {
    socket.destroy(); // the browser left while the connection was being made
    return true;
  }
  // One connection (one `connect` process) per request, closed with it: when the answer is sent, and when
  // the browser goes away first (a download cancelled, a page left), so nothing goes on reading the
  // learner's server for nobody. `connection: close` asks their server not to keep it open either.
  const upstream = request({
    createConnection: () => socket as never,
    method: req.method,
    path: req.url ?? '/',
    headers: { ...upstreamHeaders(req.headers, t.port), connection: 'close' },
  });
  res.once('close', () => {
    upstream.destroy();
    socket.destroy();
  });
  upstream.on('response', (r) => {
    const headers = Object.fromEntries(
      Object.entries(r.headers).filter(([name]) => !STRIPPED.has(name) && !HOP_BY_HOP.has(name)),
    );
    res.writeHead(r.statusCode ?? 502, headers);
    // An answer cut short by the learner's server ends the browser's too (it must not wait for the rest).
    pipeline(r, res, () => {});
  });
  upstream.on('error', () => {
    if (!res.headersSent) problem(res, deps, t, 'nothing_listening', ok.grant.locale);
    else res.destroy();
  });
  req.pipe(upstream);
  return true;
}

/** Websocket upgrades on a preview host; returns false for the app's (socket.io handles its own). */
export async function handlePreviewUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  deps: PreviewDeps,
): Promise<boolean> {
  const t = deps.origins.previewTarget(req);
  if (t === undefined) return false;
  // A browser that goes away at any point ends the exchange, not the process.
  client.on('error', () => client.destroy());
  const refuse = (status: number, text: string) => {
    client.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  };
  if (t === null) return (refuse(404, 'Not Found'), true);
  const ok = await allowed(req, t, deps);
  if (!ok.ok) return (ok.problem === 'not_running' ? refuse(404, 'Not Found') : refuse(403, 'Forbidden'), true);
  let upstream: Duplex;
  try {
    upstream = await deps.engine.connect(t.sandboxId, t.port);
  } catch {
    return (refuse(502, 'Bad Gateway'), true);
  }
  const headers = upstreamHeaders(req.headers, t.port);
  const lines = Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`));
  upstream.write(`${req.method} ${req.url ?? '/'} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  if (head.length) upstream.write(head);
  const close = () => {
    upstream.destroy();
    client.destroy();
  };
  upstream.on('error', close);
  client.on('error', close);
  // Either side gone (before the handshake's answer, too), the other goes: no `connect` process is left
  // holding the learner's server for a browser that left.
  upstream.once('close', close);
  client.once('close', close);
  // The learner's answer to the handshake is headers too (a browser takes cookies from it): filtered as
  // an HTTP answer is, then the connection is theirs.
  let answer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    answer = Buffer.concat([answer, chunk]);
    const end = answer.indexOf('\r\n\r\n');
    if (end < 0) {
      if (answer.length > MAX_HANDSHAKE) close();
      return;
    }
    upstream.off('data', onData);
    const kept = answer
      .subarray(0, end)
      .toString('latin1')
      .split('\r\n')
      .filter((line, i) => i === 0 || !STRIPPED.has(line.slice(0, line.indexOf(':')).trim().toLowerCase()));
    client.write(Buffer.concat([Buffer.from(kept.join('\r\n') + '\r\n\r\n', 'latin1'), answer.subarray(end + 4)]));
    upstream.pipe(client).pipe(upstream);
  };
  upstream.on('data', onData);
  return true;
}

/** The most a learner's server may send before its handshake answer's headers end. */
const MAX_HANDSHAKE = 64 * 1024;
