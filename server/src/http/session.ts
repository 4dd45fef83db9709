// Anonymous learner sessions: a signed, HttpOnly, SameSite=Lax cookie holding the learner id.
// State-changing requests also carry a CSRF token derived from the session, which a page can read from
// GET /api/session but another site cannot.
// A page framed by another site (/embed) is sent no SameSite=Lax cookie: it has its own, partitioned one
// (CHIPS) holding the same signed learner id, which embedSession.ts hands over from a first-party window.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const SESSION_COOKIE = 'dockside_session';
export const EMBED_COOKIE = 'dockside_embed';
const ONE_YEAR_S = 365 * 24 * 3600;

export type Session = { learnerId: string; isNew: boolean };

export class Sessions {
  constructor(private readonly secret: string) {}

  private mac(purpose: string, value: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}:${value}`).digest('base64url');
  }

  sign(learnerId: string): string {
    return `${learnerId}.${this.mac('session', learnerId)}`;
  }

  /** The learner id in a cookie value, or null when it is missing, malformed or forged. */
  verify(cookieValue: string | undefined): string | null {
    if (!cookieValue) return null;
    const dot = cookieValue.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = cookieValue.slice(0, dot);
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return null;
    return safeEqual(cookieValue.slice(dot + 1), this.mac('session', id)) ? id : null;
  }

  /** The site's own cookie, or inside a frame (where only a SameSite=None cookie is sent) the embed's. */
  fromRequest(req: IncomingMessage): string | null {
    const cookies = parseCookies(req.headers.cookie);
    return this.verify(cookies[SESSION_COOKIE]) ?? this.verify(cookies[EMBED_COOKIE]);
  }

  /**
   * The embed's session for `learnerId`: sent only in frames under the top-level site that framed it when it
   * was set (Partitioned), so another site's page can never send it along; Secure, as SameSite=None needs.
   */
  setEmbedCookie(res: ServerResponse, learnerId: string): void {
    appendSetCookie(
      res,
      `${EMBED_COOKIE}=${this.sign(learnerId)}; Path=/; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=${ONE_YEAR_S}`,
    );
  }

  /** The request's session, or a new one whose cookie is set on the response. */
  ensure(req: IncomingMessage, res: ServerResponse): Session {
    const existing = this.fromRequest(req);
    if (existing) return { learnerId: existing, isNew: false };
    const learnerId = randomBytes(18).toString('base64url');
    appendSetCookie(
      res,
      `${SESSION_COOKIE}=${this.sign(learnerId)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${ONE_YEAR_S}`,
    );
    // Later handlers in this request (Next.js pages) see the new session too.
    req.headers.cookie = [req.headers.cookie, `${SESSION_COOKIE}=${this.sign(learnerId)}`].filter(Boolean).join('; ');
    return { learnerId, isNew: true };
  }

  csrfToken(learnerId: string): string {
    return this.mac('csrf', learnerId);
  }

  checkCsrf(learnerId: string, token: string | undefined): boolean {
    return typeof token === 'string' && safeEqual(token, this.csrfToken(learnerId));
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in out)) {
      try {
        out[name] = decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        out[name] = part.slice(eq + 1).trim();
      }
    }
  }
  return out;
}

function appendSetCookie(res: ServerResponse, cookie: string): void {
  const prev = res.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  res.setHeader('set-cookie', [...list, cookie]);
}
