// A learner's socket: their sandbox, their terminals, the checks of the step they look at. Every event is
// validated with zod and checked against the session's learner before it touches anything; requests are
// answered as requests.ts answers them, in both namespaces.
import { z } from 'zod';
import { SANDBOX_ID, type ClientToServerEvents, type EnsureAnswer, type OpenedTerminal } from '@dockside/protocol';
import { AdmissionError } from '../engine/admission';
import { SandboxAccessError, type Engine } from '../engine/engine';
import { TerminalError, type Terminal, type Viewer } from '../engine/terminals';
import type { EnsureResult } from '../engine/manager';
import type { IoSocket } from './events';
import { FirstShell, pageLocale, type EarlyShell } from './firstShell';
import { answerOf, failure, handleRequests, isFailure, parse, type Failure, type Handler } from './requests';

const SandboxId = z.string().regex(new RegExp(`^${SANDBOX_ID}$`));
const TerminalId = z.string().regex(/^t-[0-9a-f]{12}$/);
const Size = { cols: z.number().int().min(2).max(500), rows: z.number().int().min(1).max(200) };
const MAX_INPUT = 64 * 1024;

const OpenFields = { terminalId: TerminalId.optional(), ...Size, locale: z.enum(['en', 'ko']).optional() };

const schemas = {
  ensure: z.object({ lessonId: z.string().max(100).optional(), terminal: z.object(OpenFields).optional() }),
  open: z.object({ sandboxId: SandboxId, ...OpenFields }),
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
  prepare: z.object({
    lessonId: z.string().min(1).max(100),
    exerciseId: z.string().min(1).max(100),
    reset: z.boolean().optional(),
  }),
};

export const learnerRoom = (learnerId: string) => `learner:${learnerId}`;

export function registerLearnerSocket(
  socket: IoSocket,
  engine: Engine,
  lessonsDir: string,
  /** Tells the other replicas that this learner's checks run here now (focusRelay.ts). */
  focusMoved: (learnerId: string) => void = () => {},
  /** The sandbox and first shell started as this socket's connection opened, if its page named its lesson. */
  early?: EarlyShell,
): void {
  const learnerId = socket.data.learnerId;
  const client = engine.client(socket.request);
  void socket.join(learnerRoom(learnerId));
  const viewers = new Map<string, Viewer>(); // terminalId → this socket's viewer
  const firstShell = early?.shell ?? new FirstShell(engine, learnerId, pageLocale(socket.request));

  /** The terminal, if it is in this learner's own sandbox. */
  const ownTerminal = (terminalId: string) => engine.terminal(learnerId, terminalId);
  const ok = (value: unknown = null) => ({ ok: true as const, value });

  /** Opens a terminal for this socket, or re-attaches it: its scrollback so far, and output as it comes. */
  async function openTerminal(body: z.infer<typeof schemas.open>): Promise<OpenedTerminal | Failure> {
    let t: Terminal;
    try {
      // The page's terminal if it is still there (also one another replica opened: the page reconnected
      // here); else a new one: the sandbox's first shell if it has one.
      const held = body.terminalId && (await engine.heldTerminal(learnerId, body.sandboxId, body.terminalId));
      t =
        held ||
        (await firstShell.claim(body.sandboxId, body.locale)) ||
        (await engine.openTerminal(learnerId, body.sandboxId, body));
    } catch (err) {
      // Not running or someone else's: one answer for both.
      if (err instanceof SandboxAccessError) return failure('forbidden', 'this sandbox is not yours');
      if (err instanceof TerminalError) throw err;
      return failure('terminal_failed', `the terminal could not start (${(err as Error).message})`);
    }
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
    return { terminalId: t.id, scrollback };
  }

  /** The learner's sandbox; `made`: the ensure this socket's connection made as it opened, if it named a lesson. */
  async function ensured(lessonId: string | undefined, made?: EarlyShell): Promise<EnsureResult> {
    if (made && made.lessonId === lessonId) return made.ensured;
    await made?.ensured.catch(() => {}); // one hand-out at a time: the next finds its shell
    return firstShell.ensure(client, lessonId, lessonsDir);
  }

  /** `sandbox:ensure`, asked with an event, or in the socket's handshake (`SocketAuth`): then with `made`. */
  const ensure =
    (made?: EarlyShell): Handler =>
    async (req) => {
      const body = parse(schemas.ensure, req ?? {});
      if (isFailure(body)) return body;
      try {
        const r = await ensured(body.lessonId, made);
        if ('queued' in r) {
          // The place as the queue's own event too: the connection's start may have queued the learner
          // before this socket was there to hear it.
          socket.emit('sandbox:queue', r.queued);
          return failure('queued', `the machine is full — you are number ${r.queued.position} in the queue`);
        }
        if (!body.terminal || r.sandbox.phase !== 'ready') return ok(r.sandbox);
        // The page's first terminal needs only the sandbox's id: it comes in the same answer. One that
        // cannot open (six are open) leaves the page to ask with `terminal:open`, which says why.
        const terminal = await openTerminal({ ...body.terminal, sandboxId: r.sandbox.id }).catch((err: unknown) => {
          if (err instanceof TerminalError) return null;
          throw err;
        });
        return ok(terminal && !isFailure(terminal) ? { ...r.sandbox, terminal } : r.sandbox);
      } catch (err) {
        if (err instanceof AdmissionError) throw err;
        return failure('sandbox_failed', `your sandbox could not start (${(err as Error).message}); try again`);
      }
    };

  handleRequests<keyof ClientToServerEvents>(
    socket,
    {
      'session:whoami': () => ok({ learnerId }),

      'sandbox:ensure': ensure(),

      'terminal:open': async (req) => {
        const body = parse(schemas.open, req);
        if (isFailure(body)) return body;
        const opened = await openTerminal(body);
        return isFailure(opened) ? opened : ok(opened);
      },

      'terminal:input': (req) => {
        const body = parse(schemas.input, req);
        if (isFailure(body)) return body;
        if (!engine.input(learnerId, body.terminalId, body.data))
          return failure('forbidden', 'this terminal is not yours');
        return undefined;
      },

      'terminal:resize': (req) => {
        const body = parse(schemas.resize, req);
        if (isFailure(body)) return body;
        ownTerminal(body.terminalId)?.resize(body.cols, body.rows);
        return undefined;
      },

      // Flow control is frequent: a bad one is answered only when asked (an ack), never as an event.
      'terminal:ack': (req) => {
        const body = parse(schemas.ack, req);
        if (isFailure(body)) return quiet(body);
        ownTerminal(body.terminalId)?.ack(body.chars);
        return undefined;
      },

      'terminal:close': (req) => {
        const body = parse(schemas.close, req);
        if (isFailure(body)) return quiet(body);
        const t = ownTerminal(body.terminalId);
        viewers.delete(body.terminalId);
        t?.kill();
        return undefined;
      },

      'exercise:prepare': async (req) => {
        const body = parse(schemas.prepare, req);
        if (isFailure(body)) return body;
        try {
          const state = await engine.prepareExercise(
            learnerId,
            lessonsDir,
            body.lessonId,
            body.exerciseId,
            body.reset ?? false,
          );
          return ok({ state });
        } catch (err) {
          if (err instanceof SandboxAccessError) return failure('not_running', err.message);
          throw err;
        }
      },

      'lesson:focus': (req) => {
        const body = parse(schemas.focus, req);
        if (isFailure(body)) return body;
        const focused = engine.focus(learnerId, body.lessonId, body.stepId);
        if (focused === 'unknown_step')
          return failure('not_found', `no step ${body.stepId} in lesson ${body.lessonId}`);
        // The other replicas stop running this learner's checks: they run here now, once.
        if (focused === 'focused') focusMoved(learnerId);
        return undefined;
      },
    },
    // Without an ack, what went wrong comes back as an event the page can show.
    (event, f) => {
      if (!quietFailures.has(f))
        socket.emit('sandbox:error', { code: f.error.code, message: `${event}: ${f.error.message}` });
    },
  );

  // The handshake's own `sandbox:ensure`: asked before the page could send an event, answered right after
  // the connection's ack. A reconnection asks it again only if the page had no answer yet.
  const { ensure: asked } = (socket.handshake.auth ?? {}) as { ensure?: unknown };
  if (asked !== undefined)
    void answerOf('sandbox:ensure', ensure(early), asked).then((r) =>
      socket.emit('sandbox:ensured', (r ?? { ok: true, value: null }) as EnsureAnswer),
    );

  socket.on('disconnect', () => {
    firstShell.drop();
    for (const [terminalId, viewer] of viewers) engine.detach(terminalId, viewer);
    viewers.clear();
  });
}

/** Failures not worth an event when nobody asked for an answer. */
const quietFailures = new WeakSet<Failure>();
const quiet = (f: Failure) => (quietFailures.add(f), f);
