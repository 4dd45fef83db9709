'use client';
// The first terminal tab of a lesson page whose boot script (web/boot/terminal.ts) already showed the
// terminal: the same session, moved into the tab, with the tab's callbacks; it ends when the tab goes.
// No xterm here: the boot script's bundle has it, and the page does not load it twice.
import { useEffect, useLayoutEffect, useRef } from 'react';
import type { TerminalPaneProps } from './TerminalPane';
import type { TerminalSession } from './terminalSession';

type Props = Omit<TerminalPaneProps, 'socket' | 'sandboxId' | 'terminalId'> & {
  session: TerminalSession;
  /** The session had ended before the tab could show it (a remount): the tab opens its own. */
  onGone: () => void;
};

export function BootTerminalPane({ session, label, active, onGone, ...callbacks }: Props) {
  const place = useRef<HTMLDivElement>(null);
  session.callbacks = callbacks;
  // Before paint: the terminal moves from where the server's HTML had it into its tab in one frame.
  useLayoutEffect(() => {
    if (session.disposed()) return onGone();
    place.current!.append(session.host);
    const known = session.terminalId();
    if (known) callbacks.onOpened(known);
    return () => {
      session.dispose();
      session.host.remove();
    };
  }, [session]);
  useEffect(() => session.setLabel(label), [session, label]);
  useEffect(() => {
    if (active) session.fit();
  }, [session, active]);
  return <div ref={place} className="terminal-place" />;
}
