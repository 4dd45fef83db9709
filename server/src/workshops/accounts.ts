// Instructor accounts and their sessions. The first account becomes the admin and needs the set-up code
// the server prints at start (so the first person to find /instructor does not become the admin); later
// sign-ups need an admin's one-time invitation. A session is a random token in an HttpOnly cookie; the
// database keeps only its SHA-256 and an expiry, so a leaked database does not sign anyone in.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../db/client';
import { DocksideError } from '../errors';
import { parseCookies } from '../http/session';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';

export const INSTRUCTOR_COOKIE = 'dockside_instructor';
const SESSION_MS = 12 * 3600_000;
const INVITATION_MS = 7 * 24 * 3600_000;
/** Where the set-up code is kept, in the server's state dir, until the first account exists. */
export const SETUP_CODE_FILE = 'setup-code';
// Four groups of four from 31 unambiguous characters: about 79 bits, and easy to type from a log.
const SETUP_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const newSetupCode = () =>
  Array.from({ length: 4 }, () =>
    Array.from({ length: 4 }, () => SETUP_ALPHABET[randomInt(SETUP_ALPHABET.length)]).join(''),
  ).join('-');
/** Case, spaces and dashes do not matter when the code is typed. */
const normalCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');

export type InstructorView = { id: string; email: string; name: string; isAdmin: boolean };

export class AccountError extends DocksideError {}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const view = (i: { id: string; email: string; name: string; isAdmin: boolean }): InstructorView => ({
  id: i.id,
  email: i.email,
  name: i.name,
  isAdmin: i.isAdmin,
});

export class InstructorAccounts {
  /** The code the first account needs; null when it is not known (yet) or has been used. */
  private setup: { code: string; file?: string } | null = null;
  /** A first sign-up holding the code, so that two at once cannot both become the admin. */
  private claimed = false;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * At start: when no instructor exists, the set-up code for the first account — `given` (from the
   * environment), or the one kept in `<stateDir>/setup-code`, or a new one kept there. Null, and the file
   * removed, once an instructor exists.
   */
  async prepareSetup(stateDir: string, given?: string): Promise<string | null> {
    const file = path.join(stateDir, SETUP_CODE_FILE);
    if ((await this.db.instructor.count()) > 0) {
      this.setup = null;
      rmSync(file, { force: true });
      return null;
    }
    if (given) {
      this.setup = { code: given };
      return given;
    }
    let code: string;
    try {
      code = readFileSync(file, 'utf8').trim();
    } catch {
      code = newSetupCode();
      try {
        writeFileSync(file, code + '\n', { mode: 0o600, flag: 'wx' });
      } catch (err) {
        console.warn(`dockside: could not keep the set-up code in ${file}: ${(err as Error).message}`);
      }
    }
    this.setup = { code, file };
    return code;
  }

  /** Whether the next sign-up is the first account (and so needs the set-up code). */
  async firstAccount(): Promise<boolean> {
    return (await this.db.instructor.count()) === 0;
  }

  private claimSetup(given: string | undefined): void {
    const expected = this.setup && Buffer.from(normalCode(this.setup.code));
    const typed = Buffer.from(normalCode(given ?? ''));
    if (!given)
      throw new AccountError(
        403,
        'setup_code_required',
        'the first account needs the set-up code that the server printed in its log when it started',
      );
    if (!expected || this.claimed || typed.length !== expected.length || !timingSafeEqual(typed, expected))
      throw new AccountError(403, 'bad_setup_code', 'wrong set-up code; copy it from the server’s log');
    this.claimed = true;
  }

  async signUp(input: {
    email: string;
    name: string;
    password: string;
    invitation?: string;
    setupCode?: string;
  }): Promise<InstructorView> {
    const email = input.email.trim().toLowerCase();
    const problem = passwordProblem(input.password, email);
    if (problem) throw new AccountError(400, 'weak_password', `password: ${problem}`);
    const passwordHash = await hashPassword(input.password);
    const firstByCount = (await this.db.instructor.count()) === 0;
    if (firstByCount) this.claimSetup(input.setupCode);
    try {
      const created = await this.create(input, email, passwordHash);
      if (created.isAdmin && this.setup) {
        if (this.setup.file) rmSync(this.setup.file, { force: true });
        this.setup = null;
      }
      return created;
    } finally {
      if (firstByCount) this.claimed = false;
    }
  }

  private create(
    input: { name: string; invitation?: string },
    email: string,
    passwordHash: string,
  ): Promise<InstructorView> {
    return this.db.$transaction(async (tx) => {
      const first = (await tx.instructor.count()) === 0;
      if (!first) {
        const inv = input.invitation ? await tx.invitation.findUnique({ where: { code: input.invitation } }) : null;
        if (!inv || inv.usedAt || inv.expiresAt.getTime() < this.now())
          throw new AccountError(403, 'invitation_required', 'signing up needs a valid invitation from an admin');
        await tx.invitation.update({ where: { code: inv.code }, data: { usedAt: new Date(this.now()) } });
      }
      if (await tx.instructor.findUnique({ where: { email } }))
        throw new AccountError(409, 'email_taken', 'an instructor with this email already exists; sign in instead');
      const created = await tx.instructor.create({
        data: {
          id: randomBytes(12).toString('base64url'),
          email,
          name: input.name.trim(),
          passwordHash,
          isAdmin: first,
        },
      });
      return view(created);
    });
  }

  /** Checks the password; the caller rate-limits attempts. */
  async signIn(emailRaw: string, password: string): Promise<InstructorView> {
    const email = emailRaw.trim().toLowerCase();
    const found = await this.db.instructor.findUnique({ where: { email } });
    // Hash anyway when the email is unknown, so timing does not tell which emails exist.
    const ok = found ? await verifyPassword(password, found.passwordHash) : (await hashPassword(password), false);
    if (!found || !ok) throw new AccountError(401, 'bad_credentials', 'wrong email or password');
    return view(found);
  }

  async startSession(res: ServerResponse, instructorId: string): Promise<void> {
    const token = randomBytes(32).toString('base64url');
    await this.db.instructorSession.create({
      data: { id: digest(token), instructorId, expiresAt: new Date(this.now() + SESSION_MS) },
    });
    res.appendHeader(
      'set-cookie',
      `${INSTRUCTOR_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_MS / 1000}`,
    );
  }

  async endSession(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = parseCookies(req.headers.cookie)[INSTRUCTOR_COOKIE];
    if (token) await this.db.instructorSession.deleteMany({ where: { id: digest(token) } });
    res.appendHeader('set-cookie', `${INSTRUCTOR_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
  }

  /** The signed-in instructor of a request (cookie header), or null. */
  async fromCookieHeader(cookieHeader: string | undefined): Promise<InstructorView | null> {
    const token = parseCookies(cookieHeader)[INSTRUCTOR_COOKIE];
    if (!token || token.length > 100) return null;
    const session = await this.db.instructorSession.findUnique({
      where: { id: digest(token) },
      include: { instructor: true },
    });
    if (!session) return null;
    if (session.expiresAt.getTime() < this.now()) {
      await this.db.instructorSession.delete({ where: { id: session.id } }).catch(() => {});
      return null;
    }
    return view(session.instructor);
  }

  async invite(admin: InstructorView): Promise<{ code: string; expiresAt: string }> {
    if (!admin.isAdmin) throw new AccountError(403, 'admin_only', 'only an admin can invite instructors');
    const code = randomBytes(12).toString('base64url');
    const expiresAt = new Date(this.now() + INVITATION_MS);
    await this.db.invitation.create({ data: { code, createdById: admin.id, expiresAt } });
    return { code, expiresAt: expiresAt.toISOString() };
  }
}
