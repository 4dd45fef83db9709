// Who may open a preview. The preview's origin never sees the app's session cookie, so the owner's page
// asks the app (CSRF-checked) for a link with a signed capability: valid for one minute, once, for one
// sandbox, port and learner. The preview origin exchanges it for its own cookie, scoped to that preview's
// host, and every request there is checked again against the sandbox's current owner.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PreviewTarget } from './origins';

export const PREVIEW_COOKIE = 'dockside_preview';
export const LINK_MS = 60_000;
export const COOKIE_MS = 8 * 3600_000;

export type Locale = 'en' | 'ko';
export type Grant = { learnerId: string; locale: Locale };
/** Why a capability does not open the preview. */
export type Refusal = 'missing' | 'forged' | 'expired' | 'used' | 'elsewhere';

type Kind = 'link' | 'cookie';
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export class PreviewAccess {
  /** Links already exchanged, until they expire: a link opens the preview once. */
  private used = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(kind: Kind, payload: string): string {
    return createHmac('sha256', this.secret).update(`preview-${kind}:${payload}`).digest('base64url');
  }

  private sign(kind: Kind, t: PreviewTarget, g: Grant, ms: number): { value: string; expiresAt: number } {
    const expiresAt = this.now() + ms;
    const nonce = randomBytes(12).toString('base64url');
    const payload = [t.sandboxId, t.port, g.learnerId, expiresAt, g.locale, nonce].join('.');
    return { value: `${payload}.${this.mac(kind, payload)}`, expiresAt };
  }

  private open(
    kind: Kind,
    value: string | undefined,
    t: PreviewTarget,
  ): (Grant & { nonce: string; exp: number }) | Refusal {
    if (!value) return 'missing';
    const parts = value.split('.');
    if (parts.length !== 7) return 'forged';
    const [sandboxId, port, learnerId, exp, locale, nonce, mac] = parts as [string, ...string[]];
    const expected = Buffer.from(this.mac(kind, parts.slice(0, 6).join('.')));
    const given = Buffer.from(mac!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
    if (!ID.test(learnerId!) || (locale !== 'en' && locale !== 'ko')) return 'forged';
    if (sandboxId !== t.sandboxId || Number(port) !== t.port) return 'elsewhere';
    if (Number(exp) <= this.now()) return 'expired';
    return { learnerId: learnerId!, locale, nonce: nonce!, exp: Number(exp) };
  }

  /** The language a genuine link or cookie carries, even when it no longer opens anything. */
  localeOf(value: string | undefined): Locale | null {
    const parts = (value ?? '').split('.');
    if (parts.length !== 7) return null;
    const payload = parts.slice(0, 6).join('.');
    const genuine = (['link', 'cookie'] as const).some((kind) => {
      const expected = Buffer.from(this.mac(kind, payload));
      const given = Buffer.from(parts[6]!);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    return genuine && (parts[4] === 'en' || parts[4] === 'ko') ? parts[4] : null;
  }

  /** A one-minute, one-use capability for the owner's link. */
  link(t: PreviewTarget, g: Grant): { token: string; expiresAt: number } {
    const { value, expiresAt } = this.sign('link', t, g, LINK_MS);
    return { token: value, expiresAt };
  }

  /** Exchanges a link's capability, once; the caller then sets `cookie(...)` on the preview's host. */
  redeem(token: string | undefined, t: PreviewTarget): Grant | Refusal {
    const now = this.now();
    for (const [nonce, exp] of this.used) if (exp <= now) this.used.delete(nonce);
    const opened = this.open('link', token, t);
    if (typeof opened === 'string') return opened;
    if (this.used.has(opened.nonce)) return 'used';
    this.used.set(opened.nonce, opened.exp);
    return { learnerId: opened.learnerId, locale: opened.locale };
  }

  /** The preview host's own cookie value for a redeemed grant. */
  cookie(t: PreviewTarget, g: Grant): string {
    return this.sign('cookie', t, g, COOKIE_MS).value;
  }

  /** Who the preview host's cookie was given to. */
  fromCookie(value: string | undefined, t: PreviewTarget): Grant | Refusal {
    const opened = this.open('cookie', value, t);
    return typeof opened === 'string' ? opened : { learnerId: opened.learnerId, locale: opened.locale };
  }
}
