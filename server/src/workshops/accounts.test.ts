// Instructor accounts on a real (SQLite) database, with the clock moved by hand: sessions and
// invitations expire, invitations are used once, the session cookie is HttpOnly and only its hash is kept;
// the first account needs the set-up code kept in the state dir.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import { AccountError, INSTRUCTOR_COOKIE, InstructorAccounts, SETUP_CODE_FILE } from './accounts';

const HOUR = 3600_000;
const PASSWORD = 'correct horse battery';
let dir: string;
let db: Db;
let now: number;
let accounts: InstructorAccounts;
let setupCode: string;

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
  setupCode = (await accounts.prepareSetup(dir))!;
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

// Each sign-up and sign-in hashes with scrypt (N=2^17): seconds on a loaded 2-core machine.
describe('instructor accounts', { timeout: 30_000 }, () => {
  it('keeps a session 12 hours, stores only its hash, and forgets it when it expires', async () => {
    const kim = await accounts.signUp({ email: ' Kim@Example.com ', name: 'Kim', password: PASSWORD, setupCode });
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
    await accounts.signUp({ email: 'kim@example.com', name: '', password: PASSWORD, setupCode });
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
    const kim = await accounts.signUp({ email: 'kim@example.com', name: 'Kim', password: PASSWORD, setupCode });
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

  it('refuses to make the first person who signs up the admin without the set-up code', async () => {
    await expect(accounts.signUp({ email: 'eve@example.com', name: 'Eve', password: PASSWORD })).rejects.toMatchObject({
      status: 403,
      code: 'setup_code_required',
    });
    // An invitation is no way around it: there is no admin to have made one.
    await expect(
      accounts.signUp({ email: 'eve@example.com', name: 'Eve', password: PASSWORD, invitation: 'made-up' }),
    ).rejects.toMatchObject({ status: 403, code: 'setup_code_required' });
    expect(await db.instructor.count()).toBe(0);
  });

  it('refuses a wrong set-up code for the first account', async () => {
    for (const wrong of ['AAAA-AAAA-AAAA-AAAA', setupCode.slice(0, -1), `${setupCode}X`, setupCode.toLowerCase() + '2'])
      await expect(
        accounts.signUp({ email: 'eve@example.com', name: 'Eve', password: PASSWORD, setupCode: wrong }),
      ).rejects.toMatchObject({ status: 403, code: 'bad_setup_code' });
    expect(await db.instructor.count()).toBe(0);
  });

  it('accepts the set-up code kept in the state dir once, then forgets it', async () => {
    const file = path.join(dir, SETUP_CODE_FILE);
    expect(setupCode).toMatch(/^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$/);
    expect(readFileSync(file, 'utf8').trim()).toBe(setupCode);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A restart before anyone signed up keeps the same code (the printed link still works).
    expect(await new InstructorAccounts(db, () => now).prepareSetup(dir)).toBe(setupCode);

    // Typed by hand: case and dashes do not matter.
    const typed = setupCode.toLowerCase().replace(/-/g, ' ');
    const kim = await accounts.signUp({ email: 'kim@example.com', name: 'Kim', password: PASSWORD, setupCode: typed });
    expect(kim.isAdmin).toBe(true);
    expect(existsSync(file)).toBe(false);
    // Used: the next sign-up with it is not an admin, and needs an invitation.
    await expect(
      accounts.signUp({ email: 'eve@example.com', name: 'Eve', password: PASSWORD, setupCode }),
    ).rejects.toMatchObject({ status: 403, code: 'invitation_required' });
    // A restart with an instructor: no code, and a stale file is removed.
    writeFileSync(file, 'STALE-CODE\n');
    expect(await new InstructorAccounts(db, () => now).prepareSetup(dir)).toBeNull();
    expect(existsSync(file)).toBe(false);
  });

  it('lets only one of two first sign-ups at once use the set-up code', async () => {
    const both = await Promise.allSettled([
      accounts.signUp({ email: 'kim@example.com', name: 'Kim', password: PASSWORD, setupCode }),
      accounts.signUp({ email: 'eve@example.com', name: 'Eve', password: PASSWORD, setupCode }),
    ]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await db.instructor.count({ where: { isAdmin: true } })).toBe(1);
  });

  it('takes the set-up code from the environment and writes nothing', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'dockside-accounts-env-'));
    try {
      const fresh = new InstructorAccounts(db, () => now);
      expect(await fresh.prepareSetup(other, 'ENV-CODE-1234')).toBe('ENV-CODE-1234');
      expect(existsSync(path.join(other, SETUP_CODE_FILE))).toBe(false);
      await expect(
        fresh.signUp({ email: 'kim@example.com', name: '', password: PASSWORD, setupCode: setupCode }),
      ).rejects.toMatchObject({ code: 'bad_setup_code' });
      expect(
        await fresh.signUp({ email: 'kim@example.com', name: '', password: PASSWORD, setupCode: 'env-code-1234' }),
      ).toMatchObject({ isAdmin: true });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
