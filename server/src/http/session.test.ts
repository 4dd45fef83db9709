import { describe, expect, it } from 'vitest';
import { parseCookies, Sessions } from './session';

const sessions = new Sessions('s'.repeat(40));

describe('sessions', () => {
  it('accepts its own signature and rejects forged or malformed cookies', () => {
    const value = sessions.sign('learner_abcdefghijklmnop');
    expect(sessions.verify(value)).toBe('learner_abcdefghijklmnop');
    expect(sessions.verify(value.slice(0, -2) + 'xx')).toBeNull();
    expect(sessions.verify(new Sessions('t'.repeat(40)).sign('learner_abcdefghijklmnop'))).toBeNull();
    expect(sessions.verify('no-dot')).toBeNull();
    expect(sessions.verify(undefined)).toBeNull();
    expect(sessions.verify('../../etc.passwd')).toBeNull();
  });

  it('binds CSRF tokens to the session', () => {
    const token = sessions.csrfToken('learner_abcdefghijklmnop');
    expect(sessions.checkCsrf('learner_abcdefghijklmnop', token)).toBe(true);
    expect(sessions.checkCsrf('learner_zzzzzzzzzzzzzzzz', token)).toBe(false);
    expect(sessions.checkCsrf('learner_abcdefghijklmnop', undefined)).toBe(false);
  });

  it('parses cookie headers', () => {
    expect(parseCookies('a=1; b=x%20y; a=2')).toEqual({ a: '1', b: 'x y' });
    expect(parseCookies(undefined)).toEqual({});
  });
});
