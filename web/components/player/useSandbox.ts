'use client';
// The page's socket and the learner's sandbox on it. The socket is opened when the page mounts (or taken
// from `connectEarly`, which the lesson page's boot script calls before the page hydrates, with its first
// `sandbox:ensure` already asked) and disconnected when it unmounts;
// its events are folded by `sandboxReducer`, and this hook does what the state asks for (another
// `sandbox:ensure`) and what the learner asks for (retry, reset).
import { startTransition, useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { api, ApiError } from '../../lib/api';
import { limitMessage, type Messages } from '../../lib/i18n';
import { type DocksideSocket, type SandboxView, type ServerToClientEvents } from '../../lib/socket';
import { markLoad } from '../../lib/timing';
import { takeSocket, type EarlyEnsure, type EnsureAnswer } from './earlySocket';
import { initialSandboxState, readySandboxId, sandboxReducer } from './sandboxState';

export function useSandbox(lessonId: string, m: Messages) {
  const [socket, setSocket] = useState<DocksideSocket | null>(null);
  const [state, dispatch] = useReducer(sandboxReducer, initialSandboxState);
  // The early socket's `sandbox:ensure`, answered in place of the page's first one.
  const earlyEnsure = useRef<EarlyEnsure | null>(null);
  // The asks for the sandbox (of this lesson) answered without one of the page's own: the early answer,
  // taken as the page mounted.
  const settled = useRef<{ lessonId: string; requests: number } | null>(null);
  // The page's language for messages made in callbacks that outlive a render.
  const messages = useRef(m);
  useEffect(() => {
    messages.current = m;
  }, [m]);

  /** An ensure's answer, told to the state; `queue`: the place the early socket kept, told before this page listened. */
  const settle = (r: EnsureAnswer, queue: EarlyEnsure['queue']) => {
    markLoad('ensured');
    // A transition: the page's render of its ready sandbox yields to the first terminal, which draws the
    // prompt that came with this answer.
    if (r.ok) return startTransition(() => dispatch({ type: 'ensured', sandbox: r.value }));
    if (r.error.code === 'queued' && queue) dispatch({ ...queue, type: 'queue' });
    const message = limitMessage(messages.current, r.error.code, r.error.retryAfter) ?? r.error.message;
    dispatch({ type: 'refused', code: r.error.code, message });
  };

  // The socket lives as long as the page. Its listeners are on before the first render after hydration,
  // and that render already knows the socket is connected: one render, not one per step.
  useEffect(() => {
    markLoad('hydrated');
    const { socket: s, ensure } = takeSocket();
    earlyEnsure.current = ensure;
    const on: Partial<{ [E in keyof ServerToClientEvents]: ServerToClientEvents[E] }> & {
      connect: () => void;
      disconnect: () => void;
    } = {
      connect: () => dispatch({ type: 'connect' }),
      disconnect: () => dispatch({ type: 'disconnect' }),
      'sandbox:progress': (p) => dispatch({ ...p, type: 'progress' }),
      'sandbox:queue': (q) => dispatch({ ...q, type: 'queue' }),
      // While the early ensure is on its way, the sandbox it hands out (announced before the answer) is
      // shown with the answer, which opened its first terminal: the first tab must not open another.
      'sandbox:state': (sandbox) =>
        ensure && !ensure.answered
          ? void ensure.answer.then(() => dispatch({ type: 'state', sandbox }))
          : dispatch({ type: 'state', sandbox }),
      'sandbox:warning': (w) => dispatch({ ...w, type: 'warning' }),
      'sandbox:error': (e) => dispatch({ ...e, type: 'error' }),
      'sandbox:ended': (e) => dispatch({ type: 'ended', sandboxId: e.sandboxId, reason: e.reason }),
    };
    const entries = Object.entries(on) as [keyof ServerToClientEvents, (...args: never[]) => void][];
    for (const [event, fn] of entries) s.on(event, fn as never);
    if (s.connected) on.connect();
    // The early ensure's answer came before hydration: this same render shows the sandbox.
    if (s.connected && ensure?.answered && ensure.lessonId === lessonId) {
      settled.current = { lessonId, requests: 1 };
      earlyEnsure.current = null;
      ensure.stop();
      settle(ensure.answered, ensure.queue);
    }
    setSocket(s);
    return () => {
      for (const [event, fn] of entries) s.off(event, fn as never);
      s.disconnect();
    };
  }, []);

  // Ask for the sandbox whenever the state says so (and again for another lesson: its files are put in place).
  const { ensureRequests } = state;
  useEffect(() => {
    if (!socket || ensureRequests === 0) return;
    if (settled.current?.lessonId === lessonId && ensureRequests <= settled.current.requests) return;
    const early = earlyEnsure.current;
    earlyEnsure.current = null;
    const answer =
      early?.lessonId === lessonId
        ? early.answer
        : new Promise<EnsureAnswer>((resolve) => socket.emit('sandbox:ensure', { lessonId }, resolve));
    void answer.then((r) => {
      early?.stop();
      settle(r, early?.lessonId === lessonId ? early.queue : null);
    });
  }, [socket, lessonId, ensureRequests]);

  const sandboxId = readySandboxId(state);

  /** Destroys the sandbox and starts a fresh one; true once the new one is there. */
  const reset = useCallback(async (): Promise<boolean> => {
    dispatch({ type: 'reset:start' });
    try {
      const { sandbox } = await api<{ sandbox: SandboxView }>('POST', '/api/sandboxes/current/reset');
      dispatch({ type: 'reset:done', sandbox });
      return true;
    } catch (err) {
      const limit =
        err instanceof ApiError
          ? limitMessage(messages.current, err.code, (err.body as { retryAfter?: unknown } | undefined)?.retryAfter)
          : null;
      dispatch({ type: 'failed', message: limit ?? (err as Error).message });
      return false;
    }
  }, []);

  /** The Layers view's subscription to changes of this sandbox's engine. */
  const subscribeLayers = useCallback(
    (onChange: () => void) => {
      if (!socket) return () => undefined;
      const listener = (c: { sandboxId: string }) => {
        if (c.sandboxId === sandboxId) onChange();
      };
      socket.on('layers:changed', listener);
      return () => void socket.off('layers:changed', listener);
    },
    [socket, sandboxId],
  );

  const retry = useCallback(() => dispatch({ type: 'retry' }), []);
  const fail = useCallback((message: string) => dispatch({ type: 'failed', message }), []);
  const markActive = useCallback(() => dispatch({ type: 'active' }), []);

  return {
    socket,
    ui: state.ui,
    online: state.online,
    idleWarningAt: state.idleWarningAt,
    sandboxId,
    retry,
    reset,
    fail,
    markActive,
    subscribeLayers,
  };
}
