// Socket requests, answered the same way in both namespaces. The payload is the first argument (unless
// that is the ack) and the ack the last (if it is a function), whatever else a client sends; every answer
// is `{ ok: true, value }` or `{ ok: false, error: { code, message } }` with a stable code and a one-line
// message, also for an event nobody handles; and no handler's failure goes unhandled.
import type { z } from 'zod';
import type { AckError } from '@dockside/protocol';
import { DocksideError, validate } from '../errors';

export type Failure = { ok: false; error: AckError };
export type Result = { ok: true; value: unknown } | Failure;

const MAX_MESSAGE = 300;
const oneLine = (s: string) => (s.split('\n')[0] ?? '').slice(0, MAX_MESSAGE);

export const failure = (code: string, message: string, retryAfter?: number): Failure => ({
  ok: false,
  error:
    retryAfter === undefined ? { code, message: oneLine(message) } : { code, message: oneLine(message), retryAfter },
});

export const isFailure = (v: unknown): v is Failure =>
  typeof v === 'object' && v !== null && (v as Failure).ok === false;

/** The payload as the schema has it, or the first issue as an `invalid_request` failure. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T | Failure {
  const r = validate(schema, value, 'message');
  return r.ok ? r.value : failure('invalid_request', r.message);
}

/** A failure a socket handler throws on purpose (its status is for form's sake: sockets have none). */
export class RequestError extends DocksideError {
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

/** What a handler threw, as a failure: the code of our own errors, else a generic one (logged). */
export function failed(event: string, err: unknown): Failure {
  if (err instanceof DocksideError) return failure(err.code, err.message, err.retryAfter);
  console.error(`socket ${event}:`, err);
  return failure('internal', 'something went wrong on the server; try again');
}

type Listener = (...args: unknown[]) => void;
type AnySocket = { on(event: string, listener: Listener): unknown; onAny(listener: Listener): unknown };

export type Handler = (req: unknown) => Result | undefined | Promise<Result | undefined>;

/** `handler`'s answer to `req`; what it throws, as a failure. */
export function answerOf(event: string, handler: Handler, req: unknown): Promise<Result | undefined> {
  return Promise.resolve()
    .then(() => handler(req))
    .catch((err: unknown) => failed(event, err));
}

/**
 * Registers every event of a namespace (`Events`, so none is forgotten) on a socket. A handler returns its
 * answer (undefined: nothing to say); without an ack, a failure goes to `unanswered` if given.
 */
export function handleRequests<Events extends string>(
  socket: unknown,
  handlers: Record<Events, Handler>,
  unanswered?: (event: string, f: Failure) => void,
): void {
  const s = socket as AnySocket;
  const ackOf = (args: unknown[]) => {
    const last = args.at(-1);
    return typeof last === 'function' ? (last as (r: Result) => void) : undefined;
  };
  for (const [event, handler] of Object.entries<Handler>(handlers))
    s.on(event, (...args: unknown[]) => {
      const ack = ackOf(args);
      const req = typeof args[0] === 'function' ? undefined : args[0];
      const answer = (r: Result | undefined) => {
        if (ack) ack(r ?? { ok: true, value: null });
        else if (r && !r.ok) unanswered?.(event, r);
      };
      void answerOf(event, handler, req)
        .then(answer)
        .catch((err: unknown) => console.error(`socket ${event}: could not answer:`, err));
    });
  s.onAny((event: unknown, ...args: unknown[]) => {
    if (typeof event === 'string' && Object.hasOwn(handlers, event)) return;
    ackOf(args)?.(failure('unknown_event', `there is no event ${JSON.stringify(String(event).slice(0, 60))}`));
  });
}
