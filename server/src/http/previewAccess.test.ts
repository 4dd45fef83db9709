// Preview capabilities as the attacks on them: a link made for one preview used on another, a link used
// twice or after its minute, a forged or edited link or cookie, with the clock moved by hand.
import { beforeEach, describe, expect, it } from 'vitest';
import { COOKIE_MS, LINK_MS, PreviewAccess } from './previewAccess';

const ana = { learnerId: 'ana-learner-id-0001', locale: 'ko' as const };
const site = { sandboxId: 'sb-abc123-0001', port: 8080 };
let now: number;
let access: PreviewAccess;

beforeEach(() => {
  now = Date.parse('2026-03-02T09:00:00Z');
  access = new PreviewAccess('s'.repeat(43), () => now);
});

describe('preview capabilities', () => {
  it('opens the preview it was made for, once, for the learner it was made for', () => {
    const { token, expiresAt } = access.link(site, ana);
    expect(expiresAt).toBe(now + LINK_MS);
    expect(access.redeem(token, site)).toEqual(ana);
    expect(access.redeem(token, site)).toBe('used');
  });

  it('refuses a link used after its minute, and says so in the language it carries', () => {
    const { token } = access.link(site, ana);
    now += LINK_MS;
    expect(access.redeem(token, site)).toBe('expired');
    expect(access.localeOf(token)).toBe('ko');
    expect(access.localeOf(token.replace('.ko.', '.en.'))).toBeNull();
  });

  it('refuses a link made for another port or sandbox', () => {
    const { token } = access.link(site, ana);
    expect(access.redeem(token, { ...site, port: 8081 })).toBe('elsewhere');
    expect(access.redeem(token, { ...site, sandboxId: 'sb-abc123-0002' })).toBe('elsewhere');
  });

  it('refuses a forged link: edited learner, edited expiry, another secret, or none at all', () => {
    const { token } = access.link(site, ana);
    const parts = token.split('.');
    const edit = (i: number, v: string) => parts.map((p, j) => (j === i ? v : p)).join('.');
    expect(access.redeem(edit(2, 'ben-learner-id-0002'), site)).toBe('forged');
    expect(access.redeem(edit(3, String(now + 10 * LINK_MS)), site)).toBe('forged');
    expect(access.redeem(new PreviewAccess('t'.repeat(43), () => now).link(site, ana).token, site)).toBe('forged');
    expect(access.redeem('not-a-token', site)).toBe('forged');
    expect(access.redeem(undefined, site)).toBe('missing');
  });

  it('keeps a link and the cookie it becomes apart: neither opens as the other', () => {
    const { token } = access.link(site, ana);
    expect(access.fromCookie(token, site)).toBe('forged');
    const cookie = access.cookie(site, ana);
    expect(access.redeem(cookie, site)).toBe('forged');
    expect(access.fromCookie(cookie, site)).toEqual(ana);
  });

  it('refuses the cookie after its hours, and on another preview host', () => {
    const cookie = access.cookie(site, ana);
    expect(access.fromCookie(cookie, { ...site, port: 3000 })).toBe('elsewhere');
    now += COOKIE_MS;
    expect(access.fromCookie(cookie, site)).toBe('expired');
  });
});
