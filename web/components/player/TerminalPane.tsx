'use client';
// A terminal tab's pane: a terminal session (terminalSession.ts) for the pane's life; unmounting detaches
// (the shell keeps running, so a reload re-attaches with scrollback). Loaded lazily: the lesson text does
// not wait for xterm.
import { useEffect, useRef } from 'react';
import '@xterm/xterm/css/xterm.css';
import type { Locale } from '@dockside/lessons';
import type { DocksideSocket } from '../../lib/socket';
import { createTerminalView, openTerminalSession, type TerminalSession } from './terminalSession';

export type TerminalPaneProps = {
  socket: DocksideSocket;
  sandboxId: string;
  /** An existing terminal to re-attach to; a new one is opened when absent or gone. */
  terminalId?: string;
  label: string;
  /** Shown when the shell ends: Enter then opens a new one in the same tab. */
  exitedText: string;
  /** The language of a new shell's welcome banner. */
  locale: Locale;
  active: boolean;
  /** Its terminal is open: a new one, or the same one again (a reload, a reconnect). */
  onOpened: (terminalId: string) => void;
  onError: (message: string) => void;
  /** Escape at the prompt (or Shift+Escape anywhere) hands focus back to the page. */
  onLeave: () => void;
};

export default function TerminalPane(props: TerminalPaneProps) {
  const { socket, sandboxId, terminalId, label, active } = props;
  const host = useRef<HTMLDivElement>(null);
  const session = useRef<TerminalSession | null>(null);
  const callbacks = () => ({
    onOpened: props.onOpened,
    onError: props.onError,
    onLeave: props.onLeave,
    exitedText: props.exitedText,
    locale: props.locale,
  });
  // The session reads its callbacks when it calls them: the latest render's.
  if (session.current) session.current.callbacks = callbacks();

  useEffect(() => {
    const s = openTerminalSession({
      view: createTerminalView(host.current!),
      socket,
      sandboxId,
      terminalId,
      label,
      callbacks: callbacks(),
    });
    session.current = s;
    return () => {
      s.dispose();
      session.current = null;
    };
    // The terminal is bound to one sandbox for its life; a new sandbox mounts a new pane.
  }, [socket, sandboxId]);

  useEffect(() => session.current?.setLabel(label), [label]);
  useEffect(() => {
    if (active) session.current?.fit();
  }, [active]);

  return <div ref={host} className="terminal-host" data-testid="terminal" />;
}
