// A route table: method, path pattern, whether it changes state (then CSRF applies), and a body limit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { displayName } from '@dockside/protocol';
import type { Client } from '../engine/admission';
import { validate } from '../errors';
import { HttpError } from './respond';

export type Ctx = {
  req: IncomingMessage;
  res: ServerResponse;
  learnerId: string;
  /** Who is asking, as limits count them (admission.ts). */
  client: Client;
  body: unknown;
  params: string[];
  query: URLSearchParams;
};

export type Route<Deps> = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: RegExp;
  maxBody?: number;
  handle: (ctx: Ctx, deps: Deps) => Promise<unknown>;
};

/** A learner's display name by protocol's one rule (trimmed, 1 to 40 characters, nothing hidden), as kept. */
export const DisplayName = z.string().transform((s, ctx) => {
  const r = displayName(s);
  if (r.ok) return r.name;
  ctx.addIssue({ code: 'custom', message: r.problem });
  return z.NEVER;
});

export const mutates = (method: string) => method !== 'GET' && method !== 'HEAD';

export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = validate(schema, value, 'body');
  if (r.ok) return r.value;
  throw new HttpError(400, 'invalid_request', r.message);
}
