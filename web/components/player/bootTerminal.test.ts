// @vitest-environment happy-dom
// What the lesson page's boot scripts leave for the player, and what the player takes: once, and only
// what belongs to the page as it is now.
import { afterEach, describe, expect, it } from 'vitest';
import { bootTerminal, EARLY_EVENT, leaveBootTerminal, whenEarly } from './bootTerminal';
import { connectEarly, takeSocket, type Early } from './earlySocket';
import type { TerminalSession } from './terminalSession';

afterEach(() => {
  delete window.__docksideEarly;
  delete window.__docksideBootTerminal;
});

const fakeEarly = () => ({ socket: { id: 'early' }, ensure: null }) as unknown as Early;

function fakeSession(sandboxId: string) {
  const host = document.createElement('div');
  document.body.append(host);
  let disposed = false;
  const session = {
    host,
    sandboxId,
    disposed: () => disposed,
    dispose: () => void (disposed = true),
  } as unknown as TerminalSession;
  return { session, host };
}

describe('the early socket', () => {
  it('is the player’s once: a boot script that runs after the player took it opens nothing', () => {
    const early = fakeEarly();
    window.__docksideEarly = early;
    expect(takeSocket()).toBe(early);
    expect(connectEarly()).toBeNull();
  });

  it('reaches the terminal’s boot script whichever of the two runs first', () => {
    const seen: Early[] = [];
    whenEarly((e) => seen.push(e));
    expect(seen).toEqual([]);
    const early = fakeEarly();
    window.__docksideEarly = early;
    window.dispatchEvent(new Event(EARLY_EVENT));
    whenEarly((e) => seen.push(e));
    expect(seen).toEqual([early, early]);
  });

  it('reaches no boot script once the player has it', () => {
    window.__docksideEarly = 'taken';
    const seen: Early[] = [];
    whenEarly((e) => seen.push(e));
    window.dispatchEvent(new Event(EARLY_EVENT));
    expect(seen).toEqual([]);
  });
});

describe('the boot script’s terminal', () => {
  it('is the first tab’s for its sandbox, the same one each render, until it ends', () => {
    const { session } = fakeSession('sb-1');
    leaveBootTerminal(session);
    expect(bootTerminal('sb-1')).toBe(session);
    expect(bootTerminal('sb-1')).toBe(session);
    session.dispose();
    expect(bootTerminal('sb-1')).toBeNull();
  });

  it('of another sandbox (the learner reset it meanwhile) is ended and taken off the page', () => {
    const { session, host } = fakeSession('sb-old');
    leaveBootTerminal(session);
    expect(bootTerminal('sb-new')).toBeNull();
    expect(session.disposed()).toBe(true);
    expect(host.isConnected).toBe(false);
    expect(bootTerminal('sb-old')).toBeNull();
  });
});
