// How a framed /embed gets the learner's own session. Inside another site's page the browser sends
// Dockside no SameSite=Lax cookie (and must not: every other page trusts it), so the embed has a cookie of
// its own, partitioned by the embedding site (CHIPS). To make it the learner's session and not a new one,
// the embed opens a first-party window, /embed/connect, once: there the site's cookie is sent, and the page
// hands a one-minute, one-use token to the window that opened it — only if that window is Dockside's own
// (postMessage's target origin), i.e. the embed's script. The embed posts the token back, and the server
// sets the partitioned cookie with the same learner id: same sandbox, same progress.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { HttpError, sendError, sendJson } from './respond';
import { localeFrom } from './previewPage';
import { pagePolicy } from './securityHeaders';
import type { Sessions } from './session';

const TOKEN_MS = 60_000;
const ID = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_BODY = 4096;

const Redeem = z.object({ token: z.string().min(1).max(512) });

export class EmbedHandoff {
  /** Tokens already redeemed, until they expire: each makes one embed session. */
  private used = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(`embed-handoff:${payload}`).digest('base64url');
  }

  issue(learnerId: string): string {
    const payload = [learnerId, this.now() + TOKEN_MS, randomBytes(12).toString('base64url')].join('.');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The learner a genuine, unexpired, unused token names; null otherwise. */
  redeem(token: string): string | null {
    const now = this.now();
    for (const [nonce, exp] of this.used) if (exp <= now) this.used.delete(nonce);
    const parts = token.split('.');
    if (parts.length !== 4) return null;
    const [learnerId, exp, nonce, mac] = parts as [string, string, string, string];
    const expected = Buffer.from(this.mac(parts.slice(0, 3).join('.')));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (!ID.test(learnerId) || !(Number(exp) > now) || this.used.has(nonce)) return null;
    this.used.set(nonce, Number(exp));
    return learnerId;
  }
}

const TEXT = {
  en: {
    title: 'Connecting your Dockside sandbox',
    working: 'Connecting the embedded sandbox to your Dockside session… This window closes by itself.',
    alone:
      'This window connects a Dockside sandbox embedded in a tutorial to your session. Open it with the sandbox’s Start button.',
  },
  ko: {
    title: 'Dockside 샌드박스 연결 중',
    working: '튜토리얼에 들어 있는 샌드박스를 내 Dockside 세션에 연결하는 중입니다… 이 창은 저절로 닫힙니다.',
    alone: '이 창은 튜토리얼에 들어 있는 Dockside 샌드박스를 내 세션에 연결합니다. 샌드박스의 시작 버튼으로 여세요.',
  },
};

/** GET /embed/connect: the first-party window that hands the learner's session to the embed that opened it. */
export function sendConnectPage(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { sessions: Sessions; handoff: EmbedHandoff; dev: boolean },
): void {
  const { learnerId } = deps.sessions.ensure(req, res);
  const lang = new URL(req.url ?? '/', 'http://x').searchParams.get('lang');
  const t = TEXT[lang === 'ko' || lang === 'en' ? lang : localeFrom(req.headers['accept-language'])];
  const nonce = randomBytes(16).toString('base64');
  res.setHeader('content-security-policy', pagePolicy(nonce, deps.dev));
  // The opener is a frame inside another site's page: with COOP same-origin this window would lose it.
  // Nothing here is worth a handle on: the token goes to Dockside's origin only.
  res.setHeader('cross-origin-opener-policy', 'unsafe-none');
  res.setHeader('cache-control', 'no-store');
  const message = JSON.stringify({ type: 'dockside:session', token: deps.handoff.issue(learnerId) }).replace(
    /</g,
    '\\u003c',
  );
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html>
<html>
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title} — Dockside</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2rem; line-height: 1.5">
<p id="status">${t.working}</p>
<script nonce="${nonce}">
if (window.opener) {
  window.opener.postMessage(${message}, location.origin);
  window.close();
} else document.getElementById('status').textContent = ${JSON.stringify(t.alone)};
</script>
</body>
</html>`);
}

/**
 * GET/POST /api/embed/session: whether this request has a session (the site's, or the embed's), and the
 * exchange of a handoff token for the embed's cookie. Outside the route table: a framed page has no
 * session, hence no CSRF token, before this; the token is its proof, and only the app's own pages may
 * post it (app.ts refuses other origins' API requests first).
 */
export async function handleEmbedSession(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { sessions: Sessions; handoff: EmbedHandoff },
): Promise<void> {
  if (req.method === 'GET') return sendJson(res, 200, { linked: deps.sessions.fromRequest(req) !== null });
  if (req.method !== 'POST')
    return sendError(res, new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here`));
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return sendError(res, new HttpError(400, 'invalid_json', 'request body is not valid JSON'));
  }
  const parsed = Redeem.safeParse(body);
  if (!parsed.success)
    return sendError(res, new HttpError(400, 'invalid_request', 'expected { "token": "…" } from /embed/connect'));
  const learnerId = deps.handoff.redeem(parsed.data.token);
  if (!learnerId)
    return sendError(
      res,
      new HttpError(403, 'invalid_token', 'the connection token is invalid, used or expired; press Start again'),
    );
  deps.sessions.setEmbedCookie(res, learnerId);
  sendJson(res, 200, { linked: true });
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > MAX_BODY) throw new Error('too large');
  }
  return text;
}
