import { describe, expect, it } from 'vitest';
import type { SandboxView } from '../../lib/socket';
import {
  initialSandboxState,
  readySandboxId,
  sandboxReducer,
  type SandboxEvent,
  type SandboxState,
} from './sandboxState';

const view = (id: string, phase: SandboxView['phase'] = 'ready'): SandboxView => ({
  id,
  phase,
  expiresAt: '2030-01-01T01:00:00.000Z',
  idleUntil: '2030-01-01T00:30:00.000Z',
  ports: [],
});

const run = (...events: SandboxEvent[]) => events.reduce(sandboxReducer, initialSandboxState);

describe('sandboxReducer', () => {
  it('asks for the sandbox on every connection, and says when the socket is down', () => {
    const connected = run({ type: 'connect' });
    expect(connected).toMatchObject({ online: true, ensureRequests: 1, ui: { kind: 'connecting' } });
    const down = sandboxReducer(connected, { type: 'disconnect' });
    expect(down.online).toBe(false);
    expect(sandboxReducer(down, { type: 'connect' })).toMatchObject({ online: true, ensureRequests: 2 });
  });

  it('shows a cold start with its progress, then the ready sandbox', () => {
    const starting = run(
      { type: 'connect' },
      { type: 'progress', phase: 'allocating', percent: 10, message: 'allocating' },
      { type: 'progress', phase: 'starting-engine', percent: 60, message: 'engine' },
    );
    expect(starting.ui).toEqual({ kind: 'starting', phase: 'starting-engine', percent: 60, message: 'engine' });
    // Other phases' progress is not a start's.
    expect(sandboxReducer(starting, { type: 'progress', phase: 'ready', percent: 100, message: '' })).toBe(starting);
    const ready = sandboxReducer(starting, { type: 'ensured', sandbox: view('sb-1') });
    expect(ready.ui).toEqual({ kind: 'ready', sandbox: view('sb-1') });
    expect(readySandboxId(ready)).toBe('sb-1');
    expect(readySandboxId(starting)).toBeNull();
  });

  it('an ensure answered before the sandbox is ready waits for its state', () => {
    const s = run({ type: 'connect' }, { type: 'ensured', sandbox: view('sb-1', 'allocating') });
    expect(s.ui).toEqual({ kind: 'connecting' });
  });

  it('queues the learner, keeping a position that came first, and asks again once they get a seat', () => {
    const queued = run({ type: 'connect' }, { type: 'queue', position: 3, estimateSeconds: 90 });
    const refused = sandboxReducer(queued, { type: 'refused', code: 'queued', message: 'queued' });
    expect(refused.ui).toEqual({ kind: 'queued', position: 3, estimateSeconds: 90 });
    expect(run({ type: 'refused', code: 'queued', message: 'queued' }).ui).toEqual({
      kind: 'queued',
      position: 0,
      estimateSeconds: 0,
    });

    const seated = sandboxReducer(refused, { type: 'state', sandbox: view('sb-2') });
    expect(seated.ui).toEqual({ kind: 'ready', sandbox: view('sb-2') });
    // The lesson's files are put in place by another ensure.
    expect(seated.ensureRequests).toBe(refused.ensureRequests + 1);
    // A ready sandbox's new state (its ports) is not a new seat.
    const ports = { ...view('sb-2'), ports: [{ port: 8080, url: 'http://p', container: 'web' }] };
    const updated = sandboxReducer(seated, { type: 'state', sandbox: ports });
    expect(updated.ui).toEqual({ kind: 'ready', sandbox: ports });
    expect(updated.ensureRequests).toBe(seated.ensureRequests);
    // Nor is a state that is not ready.
    expect(sandboxReducer(seated, { type: 'state', sandbox: view('sb-2', 'stopping') })).toBe(seated);
  });

  it("a warm sandbox's state, told before the page's ensure answers, asks for nothing more", () => {
    const asked = run({ type: 'connect' });
    const told = sandboxReducer(asked, { type: 'state', sandbox: view('sb-1') });
    expect(told.ui).toEqual({ kind: 'ready', sandbox: view('sb-1') });
    expect(told.ensureRequests).toBe(asked.ensureRequests);
    expect(sandboxReducer(told, { type: 'ensured', sandbox: view('sb-1') }).ensureRequests).toBe(asked.ensureRequests);
  });

  it('a refused ensure shows its message, and a retry asks again', () => {
    const failed = run({ type: 'connect' }, { type: 'refused', code: 'rate_limited', message: 'wait 1 minute' });
    expect(failed.ui).toEqual({ kind: 'failed', message: 'wait 1 minute' });
    expect(sandboxReducer(failed, { type: 'retry' }).ensureRequests).toBe(failed.ensureRequests + 1);
  });

  it('shows a start that failed, but not errors of requests without an answer', () => {
    const ready = run({ type: 'ensured', sandbox: view('sb-1') });
    expect(sandboxReducer(ready, { type: 'error', code: 'forbidden', message: 'terminal:input: no' })).toBe(ready);
    expect(sandboxReducer(ready, { type: 'error', code: 'sandbox_failed', message: 'boom' }).ui).toEqual({
      kind: 'failed',
      message: 'boom',
    });
    expect(sandboxReducer(ready, { type: 'failed', message: 'no terminal' }).ui).toEqual({
      kind: 'failed',
      message: 'no terminal',
    });
  });

  it('a sandbox that ends is its own news, not an error: the page offers a new one', () => {
    const ready = run(
      { type: 'ensured', sandbox: view('sb-1') },
      { type: 'warning', reason: 'idle', at: '2030-01-01T00:30:00Z' },
    );
    expect(ready.idleWarningAt).toBe('2030-01-01T00:30:00Z');
    for (const reason of ['idle', 'lifetime', 'released', 'lost', 'shutdown', 'reset'] as const) {
      const ended = sandboxReducer(ready, { type: 'ended', sandboxId: 'sb-1', reason });
      expect(ended.ui).toEqual({ kind: 'expired', reason });
      expect(ended.idleWarningAt).toBeNull();
      expect(readySandboxId(ended)).toBeNull();
      // Starting again is asking again.
      expect(sandboxReducer(ended, { type: 'retry' }).ensureRequests).toBe(ended.ensureRequests + 1);
    }
  });

  it('the end of a sandbox the page no longer shows changes nothing', () => {
    const ready = run({ type: 'ensured', sandbox: view('sb-2') });
    expect(sandboxReducer(ready, { type: 'ended', sandboxId: 'sb-1', reason: 'reset' })).toBe(ready);
  });

  it("an instructor's reset ends the sandbox; the new one's state makes it ready again", () => {
    const ended = run(
      { type: 'ensured', sandbox: view('sb-1') },
      { type: 'ended', sandboxId: 'sb-1', reason: 'reset' },
    );
    expect(ended.ui.kind).toBe('expired');
    const again = sandboxReducer(ended, { type: 'state', sandbox: view('sb-2') });
    expect(again.ui).toEqual({ kind: 'ready', sandbox: view('sb-2') });
    expect(again.ensureRequests).toBe(ended.ensureRequests + 1);
  });

  it("the learner's own reset starts over without telling them their sandbox ended", () => {
    const ready = run({ type: 'connect' }, { type: 'ensured', sandbox: view('sb-1') });
    const resetting = sandboxReducer(ready, { type: 'reset:start' });
    expect(resetting.ui).toEqual({ kind: 'starting', phase: 'allocating', percent: 0, message: '' });
    const afterEnd = sandboxReducer(resetting, { type: 'ended', sandboxId: 'sb-1', reason: 'reset' });
    expect(afterEnd.ui.kind).toBe('starting');
    // Another reason to end is still news.
    expect(sandboxReducer(resetting, { type: 'ended', sandboxId: 'sb-1', reason: 'shutdown' }).ui.kind).toBe('expired');

    const done = sandboxReducer(afterEnd, { type: 'reset:done', sandbox: view('sb-3') });
    expect(done).toMatchObject({ resetting: false, ui: { kind: 'ready', sandbox: view('sb-3') } });
    expect(done.ensureRequests).toBe(afterEnd.ensureRequests + 1);
    // The old sandbox's end, arriving late, is not the new one's.
    expect(sandboxReducer(done, { type: 'ended', sandboxId: 'sb-1', reason: 'reset' })).toBe(done);

    const refused = sandboxReducer(resetting, { type: 'failed', message: 'wait 1 minute' });
    expect(refused).toMatchObject({ resetting: false, ui: { kind: 'failed', message: 'wait 1 minute' } });
  });

  it('keeps an idle warning until the learner is seen', () => {
    const warned = run(
      { type: 'ensured', sandbox: view('sb-1') },
      { type: 'warning', reason: 'lifetime', at: '2030-01-01T01:00:00Z' },
    );
    expect(warned.idleWarningAt).toBeNull();
    const idle = sandboxReducer(warned, { type: 'warning', reason: 'idle', at: '2030-01-01T00:30:00Z' });
    expect(idle.idleWarningAt).toBe('2030-01-01T00:30:00Z');
    const seen = sandboxReducer(idle, { type: 'active' });
    expect(seen.idleWarningAt).toBeNull();
    expect(sandboxReducer(seen, { type: 'active' })).toBe(seen);
  });

  it('never changes the state it is given', () => {
    const before: SandboxState = structuredClone(run({ type: 'ensured', sandbox: view('sb-1') }));
    const copy = structuredClone(before);
    sandboxReducer(before, { type: 'ended', sandboxId: 'sb-1', reason: 'idle' });
    sandboxReducer(before, { type: 'reset:start' });
    expect(before).toEqual(copy);
  });
});
