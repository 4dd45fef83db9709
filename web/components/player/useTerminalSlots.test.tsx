// @vitest-environment happy-dom
import { act, cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DocksideSocket } from '../../lib/socket';
import { forgetTerminals } from './terminalStore';
import { useTerminalSlots } from './useTerminalSlots';

afterEach(cleanup);
beforeEach(() => localStorage.clear());

const stored = (sandboxId: string) => JSON.parse(localStorage.getItem(`dockside:terminals:${sandboxId}`) ?? 'null');

function fakeSocket() {
  const sent: [string, unknown][] = [];
  return {
    sent,
    socket: { emit: (event: string, body: unknown) => sent.push([event, body]) } as unknown as DocksideSocket,
  };
}

describe('useTerminalSlots', () => {
  it('starts a sandbox with one new terminal, remembers the ones opened and re-attaches after a reload', () => {
    const { socket } = fakeSocket();
    const { result, unmount } = renderHook(() => useTerminalSlots('sb-1', socket));
    expect(result.current.slots).toEqual([{ key: '1' }]);
    act(() => result.current.opened('1', 't-a'));
    let key = '';
    act(() => void (key = result.current.add()));
    expect(key).toBe('2');
    act(() => result.current.opened('2', 't-b'));
    expect(stored('sb-1')).toEqual(['t-a', 't-b']);
    unmount();

    const again = renderHook(() => useTerminalSlots('sb-1', socket));
    expect(again.result.current.slots).toEqual([
      { key: '1', id: 't-a' },
      { key: '2', id: 't-b' },
    ]);
  });

  it('closes a terminal (its shell too) and says which to show instead', () => {
    localStorage.setItem('dockside:terminals:sb-1', JSON.stringify(['t-a', 't-b']));
    const { socket, sent } = fakeSocket();
    const { result } = renderHook(() => useTerminalSlots('sb-1', socket));
    let next: string | undefined;
    act(() => void (next = result.current.close('1')));
    expect(next).toBe('2');
    expect(sent).toEqual([['terminal:close', { terminalId: 't-a' }]]);
    expect(result.current.slots).toEqual([{ key: '2', id: 't-b' }]);
    expect(stored('sb-1')).toEqual(['t-b']);
    // Keys are not reused: a new tab's panel is a new one.
    act(() => void (next = result.current.add()));
    expect(next).toBe('3');
  });

  it("keeps the last sandbox's tabs while there is none, and takes the next sandbox's own", () => {
    localStorage.setItem('dockside:terminals:sb-1', JSON.stringify(['t-a', 't-b']));
    const { socket } = fakeSocket();
    const { result, rerender } = renderHook(({ id }) => useTerminalSlots(id, socket), {
      initialProps: { id: 'sb-1' as string | null },
    });
    expect(result.current.slots).toHaveLength(2);
    rerender({ id: null });
    expect(result.current.slots).toHaveLength(2);
    rerender({ id: 'sb-2' });
    expect(result.current.slots).toEqual([{ key: '1' }]);
    forgetTerminals('sb-1');
    expect(stored('sb-1')).toBeNull();
  });

  it('survives what another page version left in storage', () => {
    localStorage.setItem('dockside:terminals:sb-1', '{not json');
    const { result } = renderHook(() => useTerminalSlots('sb-1', null));
    expect(result.current.slots).toEqual([{ key: '1' }]);
  });
});
