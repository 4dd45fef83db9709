import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';
import { RateLimiter } from './rateLimit';

describe('instructor passwords', { timeout: 30_000 }, () => {
  it('refuses short, repetitive or email-based passwords', () => {
    expect(passwordProblem('short', 'kim@example.com')).toMatch(/10 characters/);
    expect(passwordProblem('aaaaaaaaaaaa', 'kim@example.com')).toMatch(/different/);
    expect(passwordProblem('teacherkim-2026!', 'teacherkim@example.com')).toMatch(/email/);
    expect(passwordProblem('correct horse battery', 'kim@example.com')).toBeNull();
  });

  it('hashes with a salt and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).not.toBe(b);
    expect(a.startsWith('scrypt$')).toBe(true);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
});

describe('RateLimiter', () => {
  it('allows max attempts per window, then says how long to wait', () => {
    let now = 0;
    const rl = new RateLimiter(3, 60_000, () => now);
    expect([rl.hit('ip'), rl.hit('ip'), rl.hit('ip')]).toEqual([0, 0, 0]);
    expect(rl.hit('ip')).toBe(60);
    expect(rl.hit('other')).toBe(0);
    now = 30_000;
    expect(rl.hit('ip')).toBe(30);
    now = 60_000;
    expect(rl.hit('ip')).toBe(0);
  });

  it('tells whether the next attempt would be refused without counting it', () => {
    let now = 0;
    const rl = new RateLimiter(2, 60_000, () => now);
    expect(rl.blocked('ip')).toBe(0);
    rl.hit('ip');
    expect([rl.blocked('ip'), rl.blocked('ip')]).toEqual([0, 0]);
    rl.hit('ip');
    expect(rl.blocked('ip')).toBe(60);
    now = 45_000;
    expect(rl.blocked('ip')).toBe(15);
    now = 60_000;
    expect(rl.blocked('ip')).toBe(0);
  });
});
