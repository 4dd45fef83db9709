'use client';
// The terminal tabs of a sandbox. Each slot is a tab; its terminal id, once the server opened one, is
// remembered per sandbox (terminalStore.ts), so a reload re-attaches to the same shells (with scrollback).
import { useState } from 'react';
import type { DocksideSocket } from '../../lib/socket';
import { loadTerminals as load, saveTerminals as save, type TermSlot } from './terminalStore';

/**
 * The slots of the ready sandbox `sandboxId`. While there is none (starting, ended) the last sandbox's
 * slots stay, as tabs without panels; a new sandbox starts from what it remembers, or one new terminal.
 */
export function useTerminalSlots(sandboxId: string | null, socket: DocksideSocket | null) {
  // `made`: the last key handed out; keys are not reused within a sandbox (a tab's panel is keyed by one).
  const [state, setState] = useState<{ sandboxId: string | null; slots: TermSlot[]; made: number }>({
    sandboxId: null,
    slots: [],
    made: 0,
  });
  let current = state;
  if (sandboxId && sandboxId !== state.sandboxId) {
    // Adjusted while rendering, so no pane of the new sandbox mounts with the old one's terminals.
    const loaded = load(sandboxId);
    current = { sandboxId, slots: loaded, made: loaded.length };
    setState(current);
  }
  const { slots } = current;

  /** A new slot (its pane opens a new terminal); its key. */
  const add = (): string => {
    // A click's update is rendered before the next click: `current` is up to date here.
    const key = String(current.made + 1);
    setState((s) => ({ ...s, made: s.made + 1, slots: [...s.slots, { key }] }));
    return key;
  };

  /** The slot's pane opened its terminal (a new one is remembered for a reload). */
  const opened = (key: string, id: string) =>
    setState((s) => {
      if (s.slots.some((slot) => slot.key === key && slot.id === id)) return s;
      const next = s.slots.map((slot) => (slot.key === key ? { ...slot, id } : slot));
      if (s.sandboxId) save(s.sandboxId, next);
      return { ...s, slots: next };
    });

  /** Closes the slot and its shell; the key of the slot to show instead. */
  const close = (key: string): string | undefined => {
    const slot = slots.find((s) => s.key === key);
    if (!slot) return undefined;
    if (slot.id) socket?.emit('terminal:close', { terminalId: slot.id });
    const rest = slots.filter((s) => s !== slot);
    if (current.sandboxId) save(current.sandboxId, rest);
    setState((s) => ({ ...s, slots: s.slots.filter((x) => x.key !== key) }));
    return rest[0]?.key;
  };

  return { slots, add, opened, close };
}
