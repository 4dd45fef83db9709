import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';

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
