// What a client can cause, and what a handler refuses on purpose, in one shape for every module: the HTTP
// status it answers with, a stable code (server/API.md's table of codes), a one-line message a person can
// act on, and detail for the answer's body (`retryAfter`, the current `etag`, a limit). One converter per
// transport: handleApi (http/api.ts) and failed (realtime/requests.ts).
import type { z } from 'zod';

export class DocksideError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: Record<string, unknown> | object,
  ) {
    super(message);
  }

  /** Seconds until a spent limit allows again, for a 429's Retry-After and a socket failure's retryAfter. */
  get retryAfter(): number | undefined {
    const r = (this.detail as { retryAfter?: unknown } | undefined)?.retryAfter;
    return typeof r === 'number' ? r : undefined;
  }
}

/**
 * A value as the schema has it, or its first issue as one line, `field.path: what is wrong` (`whole` names
 * the value itself: the body, the message); the HTTP and socket `parse`s answer it in their own way.
 */
export function validate<T>(
  schema: z.ZodType<T>,
  value: unknown,
  whole: string,
): { ok: true; value: T } | { ok: false; message: string } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  return { ok: false, message: `${issue.path.join('.') || whole}: ${issue.message}` };
}
