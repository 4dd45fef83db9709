import { describe, expect, it } from 'vitest';
import { pickLocale } from './i18n';

describe('pickLocale', () => {
  it('prefers the remembered choice, then Accept-Language by quality, then English', () => {
    expect(pickLocale('ko', 'en-US')).toBe('ko');
    expect(pickLocale(undefined, 'ko-KR,ko;q=0.9,en;q=0.8')).toBe('ko');
    expect(pickLocale(undefined, 'de;q=1,en;q=0.5,ko;q=0.7')).toBe('ko');
    expect(pickLocale(undefined, 'fr-FR')).toBe('en');
    expect(pickLocale('xx', null)).toBe('en');
  });
});
