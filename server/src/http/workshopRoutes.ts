// Instructor accounts, workshops and joining. Instructor calls need the instructor session cookie and
// are checked against the workshop's owner; learners only ever join.
import QRCode from 'qrcode';
import { z } from 'zod';
import type { WorkshopDetail } from '@dockside/protocol';
import type { InstructorView } from '../workshops/accounts';
import { WorkshopError } from '../workshops/workshops';
import type { ApiDeps } from './deps';
import { HttpError, RawBody } from './respond';
import { DisplayName, parse, type Ctx, type Route } from './router';
import { layerRoutesUnder } from './layerRoutes';
import { files } from './sandboxRoutes';

const ID = '([A-Za-z0-9_-]{1,64})';
const Email = z.string().trim().toLowerCase().email('an email address such as kim@example.com').max(200);

const LessonId = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,99}$/, 'a lesson id');

const schemas = {
  signUp: z.object({
    email: Email,
    name: z.string().trim().max(80).default(''),
    password: z.string().max(200),
    invitation: z.string().max(100).optional(),
    setupCode: z.string().max(100).optional(),
  }),
  signIn: z.object({ email: Email, password: z.string().max(200) }),
  workshop: z.object({
    title: z.string().trim().min(1, 'give the workshop a title').max(120),
    lessonIds: z.array(LessonId).min(1, 'choose at least one lesson').max(20),
    exercises: z
      .array(
        z.object({ lessonId: LessonId, exerciseId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'an exercise id') }),
      )
      .max(40)
      .default([]),
    seatLimit: z.number().int().min(1, 'at least one seat').max(200, 'at most 200 seats'),
    durationMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .default(120),
    startsAt: z.iso.datetime().optional(),
    locale: z.enum(['en', 'ko']).default('en'),
    keepSandboxes: z.boolean().default(false),
  }),
  extend: z.object({ minutes: z.number().int().min(1).max(480) }),
  message: z.object({
    text: z.string().trim().min(1, 'write a message').max(500),
    learnerId: z.string().max(64).optional(),
  }),
  join: z.object({ code: z.string().max(20), displayName: DisplayName }),
  path: z.object({ path: z.string().min(1).max(4096) }),
};

const clientAddress = (ctx: Ctx) => ctx.client.address;

async function instructor(ctx: Ctx, deps: ApiDeps): Promise<InstructorView> {
  const who = await deps.instructors.fromCookieHeader(ctx.req.headers.cookie);
  if (!who) throw new HttpError(401, 'signed_out', 'sign in as an instructor first');
  return who;
}

function limited(wait: number, what: string): void {
  if (wait > 0)
    throw new HttpError(429, 'rate_limited', `too many ${what}; try again in ${wait} s`, { retryAfter: wait });
}

export const workshopRoutes: Route<ApiDeps>[] = [
  // --- instructor accounts
  {
    method: 'POST',
    path: /^\/api\/instructors\/signup$/,
    handle: async (ctx, deps) => {
      limited(await deps.limits.signIn.hit(`signup:${clientAddress(ctx)}`), 'sign-up attempts');
      const body = parse(schemas.signUp, ctx.body);
      const who = await deps.instructors.signUp(body);
      await deps.instructors.startSession(ctx.res, who.id);
      return who;
    },
  },
  {
    method: 'POST',
    path: /^\/api\/instructors\/signin$/,
    handle: async (ctx, deps) => {
      const body = parse(schemas.signIn, ctx.body);
      limited(await deps.limits.signIn.hit(`ip:${clientAddress(ctx)}`), 'sign-in attempts');
      limited(await deps.limits.signIn.hit(`email:${body.email}`), 'sign-in attempts for this email');
      const who = await deps.instructors.signIn(body.email, body.password);
      await deps.instructors.startSession(ctx.res, who.id);
      return who;
    },
  },
  {
    method: 'POST',
    path: /^\/api\/instructors\/signout$/,
    handle: async (ctx, deps) => {
      await deps.instructors.endSession(ctx.req, ctx.res);
      return { signedOut: true };
    },
  },
  {
    // Whether the next account is the first (it then needs the set-up code from the server's log).
    method: 'GET',
    path: /^\/api\/instructors\/setup$/,
    handle: async (_ctx, deps) => ({ firstAccount: await deps.instructors.firstAccount() }),
  },
  {
    method: 'GET',
    path: /^\/api\/instructors\/me$/,
    handle: async (ctx, deps) => instructor(ctx, deps),
  },
  {
    method: 'POST',
    path: /^\/api\/instructors\/invitations$/,
    handle: async (ctx, deps) => deps.instructors.invite(await instructor(ctx, deps)),
  },

  // --- workshops (instructor)
  {
    method: 'GET',
    path: /^\/api\/workshops$/,
    handle: async (ctx, deps) => ({ workshops: await deps.workshops.listFor(await instructor(ctx, deps)) }),
  },
  {
    method: 'POST',
    path: /^\/api\/workshops$/,
    handle: async (ctx, deps) => {
      const who = await instructor(ctx, deps);
      return deps.workshops.create(who, parse(schemas.workshop, ctx.body));
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/workshops/${ID}$`),
    handle: async (ctx, deps) => {
      const who = await instructor(ctx, deps);
      const w = await deps.workshops.get(who, ctx.params[0]!);
      const joinUrl = `${deps.previews.origins.appOrigin(ctx.req)}/join/${w.joinCode}`;
      const qrSvg = await QRCode.toString(joinUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
      return { ...w, joinUrl, qrSvg } satisfies WorkshopDetail;
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/workshops/${ID}/dashboard$`),
    handle: async (ctx, deps) => {
      await deps.workshops.owned(await instructor(ctx, deps), ctx.params[0]!);
      return deps.dashboard.snapshot(ctx.params[0]!);
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/workshops/${ID}/open$`),
    handle: async (ctx, deps) => deps.workshops.open(await instructor(ctx, deps), ctx.params[0]!),
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/workshops/${ID}/end$`),
    handle: async (ctx, deps) => deps.workshops.end(await instructor(ctx, deps), ctx.params[0]!),
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/workshops/${ID}/extend$`),
    handle: async (ctx, deps) => {
      const who = await instructor(ctx, deps);
      const { minutes } = parse(schemas.extend, ctx.body);
      return deps.workshops.extend(who, ctx.params[0]!, minutes);
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/workshops/${ID}/message$`),
    handle: async (ctx, deps) => {
      const who = await instructor(ctx, deps);
      const { text, learnerId } = parse(schemas.message, ctx.body);
      return deps.workshops.message(who, ctx.params[0]!, text, learnerId);
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/workshops/${ID}/learners/${ID}/reset$`),
    handle: async (ctx, deps) =>
      deps.workshops.resetLearner(await instructor(ctx, deps), ctx.params[0]!, ctx.params[1]!),
  },
  {
    // A learner's workspace files, read-only, for helping without walking over.
    method: 'GET',
    path: new RegExp(`^/api/workshops/${ID}/learners/${ID}/files$`),
    handle: async (ctx, deps) => {
      const { path } = parse(schemas.path, Object.fromEntries(ctx.query));
      const sandboxId = await learnerSandbox(ctx, deps);
      return { entries: await files(() => deps.engine.files(sandboxId).list(path)) };
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/workshops/${ID}/learners/${ID}/file$`),
    handle: async (ctx, deps) => {
      const { path } = parse(schemas.path, Object.fromEntries(ctx.query));
      const sandboxId = await learnerSandbox(ctx, deps);
      return files(() => deps.engine.files(sandboxId).read(path));
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/workshops/${ID}/results$`),
    handle: async (ctx, deps) => deps.workshops.results(await instructor(ctx, deps), ctx.params[0]!),
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/workshops/${ID}/results\\.csv$`),
    handle: async (ctx, deps) => {
      const who = await instructor(ctx, deps);
      const csv = await deps.workshops.resultsCsv(who, ctx.params[0]!);
      return new RawBody('text/csv; charset=utf-8', csv, `workshop-${ctx.params[0]}-results.csv`);
    },
  },

  // The learner's Layers view, for their instructor.
  ...layerRoutesUnder(`/api/workshops/${ID}/learners/${ID}`, 2, learnerSandbox),

  // --- learners
  {
    method: 'GET',
    path: /^\/api\/join\/([A-Za-z0-9-]{1,20})$/,
    handle: async (ctx, deps) => joinAttempt(ctx, deps, () => deps.workshops.preview(ctx.params[0]!)),
  },
  {
    method: 'POST',
    path: /^\/api\/join$/,
    handle: async (ctx, deps) => {
      const { code, displayName } = parse(schemas.join, ctx.body);
      return joinAttempt(ctx, deps, () => deps.workshops.join(code, displayName, ctx.learnerId));
    },
  },
];

/**
 * A join-code lookup. Only wrong codes count against the address, so a whole class behind one NAT can
 * open the link and join in the same minute; an address that guessed too often is refused even the right
 * code until its window ends.
 */
async function joinAttempt<T>(ctx: Ctx, deps: ApiDeps, work: () => Promise<T>): Promise<T> {
  const key = `join:${clientAddress(ctx)}`;
  limited(await deps.limits.join.blocked(key), 'wrong join codes from your network');
  try {
    return await work();
  } catch (err) {
    if (err instanceof WorkshopError && err.code === 'bad_code') await deps.limits.join.hit(key);
    throw err;
  }
}

async function learnerSandbox(ctx: Ctx, deps: ApiDeps): Promise<string> {
  const who = await instructor(ctx, deps);
  await deps.workshops.enrolled(who, ctx.params[0]!, ctx.params[1]!);
  const view = await deps.engine.sandboxOfAnyReplica(ctx.params[1]!);
  if (!view) throw new HttpError(409, 'no_sandbox', 'this learner has no sandbox right now');
  return view.id;
}
