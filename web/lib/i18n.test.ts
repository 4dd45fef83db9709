import { describe, expect, it } from 'vitest';
import { limitMessage, pickLocale, t } from './i18n';

describe('pickLocale', () => {
  it('prefers the remembered choice, then Accept-Language by quality, then English', () => {
    expect(pickLocale('ko', 'en-US')).toBe('ko');
    expect(pickLocale(undefined, 'ko-KR,ko;q=0.9,en;q=0.8')).toBe('ko');
    expect(pickLocale(undefined, 'de;q=1,en;q=0.5,ko;q=0.7')).toBe('ko');
    expect(pickLocale(undefined, 'fr-FR')).toBe('en');
    expect(pickLocale('xx', null)).toBe('en');
  });
});

describe('limitMessage', () => {
  it('tells a rate-limited learner, in their language, when to try again', () => {
    expect(limitMessage(t('en'), 'rate_limited', 300)).toBe(
      'Too many sandboxes were started or reset from your network. Try again in 5 min.',
    );
    expect(limitMessage(t('ko'), 'rate_limited', 45)).toBe(
      '같은 네트워크에서 샌드박스를 너무 자주 시작하거나 초기화했습니다. 45초 후에 다시 시도하세요.',
    );
    expect(limitMessage(t('en'), 'address_limit', 1800)).toMatch(/^Your network already has as many .* 30 min\.$/);
    expect(limitMessage(t('ko'), 'address_limit', undefined)).toMatch(/60초 후에/);
    expect(limitMessage(t('en'), 'queued', 5)).toBeNull();
  });
});
