// A learner's socket: their sandbox, their terminals, the checks of the step they look at. Every event is
// validated with zod and checked against the session's learner before it touches anything.
import { z } from 'zod';
import { AdmissionError } from '../engine/admission';
import type { Engine } from '../engine/engine';
import type { Viewer } from '../engine/terminals';
import { TerminalError } from '../engine/terminals';
import type { Ack, AckError } from './events';
import type { IoSocket } from './io';

const SandboxId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/);
const TerminalId = z.string().regex(/^t-[0-9a-f]{12}$/);
const Size = { cols: z.number().int().min(2).max(500), rows: z.number().int().min(1).max(200) };
const MAX_INPUT = 64 * 1024;

const schemas = {
  ensure: z.object({ lessonId: z.string().max(100).optional() }),
  open: z.object({ sandboxId: SandboxId, terminalId: TerminalId.optional(), ...Size }),
  input: z.object({ terminalId: TerminalId, data: z.string().max(MAX_INPUT) }),
  resize: z.object({ terminalId: TerminalId, ...Size }),
  ack: z.object({
    terminalId: TerminalId,
    chars: z
      .number()
      .int()
      .min(0)
      .max(1 << 30),
  }),
  close: z.object({ terminalId: TerminalId }),
  focus: z.object({ lessonId: z.string().min(1).max(100), stepId: z.string().min(1).max(100) }),
};

export const learnerRoom = (learnerId: string) => `learner:${learnerId}`;

type Failure = { ok: false; error: AckError };
const failure = (code: string, message: string, retryAfter?: number): Failure => ({
  ok: false,
  error: retryAfter === undefined ? { code, message } : { code, message, retryAfter },
});

function parse<T>(schema: z.ZodType<T>, value: unknown): T | Failure {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  return failure('invalid_request', `${issue.path.join('.') || 'message'}: ${issue.message}`);
}
const isFailure = (v: unknown): v is Failure => typeof v === 'object' && v !== null && (v as Failure).ok === false;

export function registerLearnerSocket(socket: IoSocket, engine: Engine, lessonsDir: string): void {
  const learnerId = socket.data.learnerId;
  const client = engine.admission.client(socket.request);
  void socket.join(learnerRoom(learnerId));
  const viewers = new Map<string, Viewer>(); // terminalId → this socket's viewer

  const reply = <T>(ack: unknown, result: { ok: true; value: T } | Failure) => {
    if (typeof ack === 'function') (ack as Ack<T>)(result);
  };
  const reject = (event: string, f: Failure) =>
    socket.emit('sandbox:error', { code: f.error.code, message: `${event}: ${f.error.message}` });

  /** The terminal, if it is in this learner's own sandbox. */
  const ownTerminal = (terminalId: string) => {
    const t = engine.terminals.get(terminalId);
    if (!t || engine.manager.ownerOf(t.sandboxId) !== learnerId) return undefined;
    return t;
  };

  socket.on('sandbox:ensure', async (req, ack) => {
    const body = parse(schemas.ensure, req ?? {});
    if (isFailure(body)) return reply(ack, body);
    try {
      const r = await engine.ensureSandbox(learnerId, client);
      if ('queued' in r)
        return reply(ack, failure('queued', `the machine is full — you are number ${r.queued.position} in the queue`));
      if (body.lessonId) await engine.seedLesson(r.sandbox.id, body.lessonId, lessonsDir);
      reply(ack, { ok: true, value: r.sandbox });
    } catch (err) {
      if (err instanceof AdmissionError) return reply(ack, failure(err.code, err.message, err.retryAfter));
      reply(ack, failure('sandbox_failed', `your sandbox could not start (${(err as Error).message}); try again`));
    }
  });

  socket.on('terminal:open', async (req, ack) => {
    const body = parse(schemas.open, req);
    if (isFailure(body)) return reply(ack, body);
    if (engine.manager.ownerOf(body.sandboxId) !== learnerId)
      return reply(ack, failure('forbidden', 'this sandbox is not yours'));
    engine.manager.touch(body.sandboxId);
    try {
      let terminal = body.terminalId ? ownTerminal(body.terminalId) : undefined;
      if (body.terminalId && !terminal && engine.terminals.get(body.terminalId))
        return reply(ack, failure('forbidden', 'this terminal is not yours'));
      terminal ??= await engine.terminals.open(body.sandboxId, body.cols, body.rows);
      const t = terminal;
      const previous = viewers.get(t.id);
      if (previous) t.detach(previous);
      const viewer: Viewer = {
        readOnly: false,
        send: (data) => socket.emit('terminal:output', { terminalId: t.id, data }),
        exit: (code) => socket.emit('terminal:exit', { terminalId: t.id, code }),
      };
      viewers.set(t.id, viewer);
      const scrollback = t.attach(viewer);
      t.resize(body.cols, body.rows);
      reply(ack, { ok: true, value: { terminalId: t.id, scrollback } });
    } catch (err) {
      if (err instanceof TerminalError) return reply(ack, failure(err.code, err.message));
      reply(ack, failure('terminal_failed', `the terminal could not start (${(err as Error).message})`));
    }
  });

  socket.on('terminal:input', (req) => {
    const body = parse(schemas.input, req);
    if (isFailure(body)) return reject('terminal:input', body);
    const t = ownTerminal(body.terminalId);
    if (!t) return reject('terminal:input', failure('forbidden', 'this terminal is not yours'));
    engine.manager.touch(t.sandboxId);
    t.write(body.data);
  });

  socket.on('terminal:resize', (req) => {
    const body = parse(schemas.resize, req);
    if (isFailure(body)) return reject('terminal:resize', body);
    ownTerminal(body.terminalId)?.resize(body.cols, body.rows);
  });

  socket.on('terminal:ack', (req) => {
    const body = parse(schemas.ack, req);
    if (isFailure(body)) return;
    ownTerminal(body.terminalId)?.ack(body.chars);
  });

  socket.on('terminal:close', (req) => {
    const body = parse(schemas.close, req);
    if (isFailure(body)) return;
    const t = ownTerminal(body.terminalId);
    viewers.delete(body.terminalId);
    t?.kill();
  });

  socket.on('lesson:focus', (req) => {
    const body = parse(schemas.focus, req);
    if (isFailure(body)) return reject('lesson:focus', body);
    const own = engine.manager.viewFor(learnerId);
    if (!own) return;
    if (!engine.checks.setFocus(learnerId, own.id, body.lessonId, body.stepId))
      reject('lesson:focus', failure('not_found', `no step ${body.stepId} in lesson ${body.lessonId}`));
  });

  socket.on('disconnect', () => {
    for (const [terminalId, viewer] of viewers) engine.terminals.get(terminalId)?.detach(viewer);
    viewers.clear();
  });
}
