// Instructor accounts on a real (SQLite) database, with the clock moved by hand: sessions and
// invitations expire, invitations are used once, the session cookie is HttpOnly and only its hash is kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import { AccountError, INSTRUCTOR_COOKIE, InstructorAccounts } from './accounts';

const HOUR = 3600_000;
const PASSWORD = 'correct horse battery';
let dir: string;
let db: Db;
let now: number;
let accounts: InstructorAccounts;

/** Starts a session as the HTTP layer does and returns the cookie the browser would send back. */
async function signedIn(instructorId: string): Promise<{ cookie: string; setCookie: string }> {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  await accounts.startSession(res, instructorId);
  const setCookie = String(res.getHeader('set-cookie'));
  return { cookie: setCookie.split(';')[0]!, setCookie };
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-accounts-'));
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
  now = Date.parse('2026-03-02T09:00:00Z');
  accounts = new InstructorAccounts(db, () => now);
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('instructor accounts', () => {
  it('keeps a session 12 hours, stores only its hash, and forgets it when it expires', async () => {
    const kim = await accounts.signUp({ email: ' Kim@Example.com ', name: 'Kim', password: PASSWORD });
    expect(kim).toMatchObject({ email: 'kim@example.com', isAdmin: true });
    const { cookie, setCookie } = await signedIn(kim.id);
    expect(setCookie).toMatch(new RegExp(`^${INSTRUCTOR_COOKIE}=[A-Za-z0-9_-]{43}; `));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    const token = cookie.split('=')[1]!;
    const rows = await db.instructorSession.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).not.toContain(token);

    now += 11 * HOUR;
    expect(await accounts.fromCookieHeader(`other=1; ${cookie}`)).toMatchObject({ id: kim.id });
    now += 2 * HOUR;
    expect(await accounts.fromCookieHeader(cookie)).toBeNull();
    expect(await db.instructorSession.count()).toBe(0);
    expect(await accounts.fromCookieHeader(`${INSTRUCTOR_COOKIE}=made-up`)).toBeNull();
  });

  it('signs in with the right password only, whatever the case of the email', async () => {
    await accounts.signUp({ email: 'kim@example.com', name: '', password: PASSWORD });
    expect(await accounts.signIn('KIM@example.com', PASSWORD)).toMatchObject({ email: 'kim@example.com' });
    await expect(accounts.signIn('kim@example.com', 'correct horse batterY')).rejects.toMatchObject({
      status: 401,
      code: 'bad_credentials',
    });
    // An unknown email gets the same answer as a wrong password.
    await expect(accounts.signIn('nobody@example.com', PASSWORD)).rejects.toMatchObject({
      status: 401,
      code: 'bad_credentials',
    });
    const stored = await db.instructor.findFirstOrThrow();
    expect(stored.passwordHash).toMatch(/^scrypt\$/);
    expect(stored.passwordHash).not.toContain(PASSWORD);
  });

  it('needs an invitation after the first account: one use, seven days, from an admin', async () => {
    const kim = await accounts.signUp({ email: 'kim@example.com', name: 'Kim', password: PASSWORD });
    await expect(accounts.signUp({ email: 'lee@example.com', name: '', password: PASSWORD })).rejects.toMatchObject({
      status: 403,
      code: 'invitation_required',
    });
    const first = await accounts.invite(kim);
    const lee = await accounts.signUp({
      email: 'lee@example.com',
      name: 'Lee',
      password: PASSWORD,
      invitation: first.code,
    });
    expect(lee.isAdmin).toBe(false);
    await expect(accounts.invite(lee)).rejects.toBeInstanceOf(AccountError);
    await expect(
      accounts.signUp({ email: 'park@example.com', name: '', password: PASSWORD, invitation: first.code }),
    ).rejects.toMatchObject({ code: 'invitation_required' });

    const late = await accounts.invite(kim);
    now += 7 * 24 * HOUR + 1;
    await expect(
      accounts.signUp({ email: 'park@example.com', name: '', password: PASSWORD, invitation: late.code }),
    ).rejects.toMatchObject({ code: 'invitation_required' });

    const fresh = await accounts.invite(kim);
    await expect(
      accounts.signUp({ email: 'LEE@example.com', name: '', password: PASSWORD, invitation: fresh.code }),
    ).rejects.toMatchObject({ status: 409, code: 'email_taken' });
  });

  it('refuses weak passwords before anything is stored', async () => {
    await expect(
      accounts.signUp({ email: 'kim@example.com', name: '', password: 'kim@example.com!' }),
    ).rejects.toMatchObject({ status: 400, code: 'weak_password' });
    expect(await db.instructor.count()).toBe(0);
  });
});
