'use client';
// A learner's terminal, mirrored read-only for the instructor (typing goes nowhere).
import { useEffect, useRef } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import type { InstructorSocket } from './socket';
import styles from './workshop.module.css';

export default function MirrorTerminal({
  socket,
  workshopId,
  learnerId,
  label,
  onError,
}: {
  socket: InstructorSocket;
  workshopId: string;
  learnerId: string;
  label: string;
  onError: (message: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  useEffect(() => {
    const term = new Terminal({
      disableStdin: true,
      fontSize: 13,
      scrollback: 5000,
      theme: { background: '#ffffff', foreground: '#1b1f24', cursor: '#ffffff' },
      fontFamily: "'DejaVu Sans Mono', monospace",
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    term.textarea?.setAttribute('aria-label', label);
    fit.fit();
    const ids = new Set<string>();
    const onOutput = (o: { terminalId: string; data: string }) => {
      if (ids.has(o.terminalId)) term.write(o.data);
    };
    socket.on('mirror:output', onOutput);
    socket.emit('mirror:open', { workshopId, learnerId }, (r) => {
      if (!r.ok) return onErrorRef.current(r.error.message);
      for (const t of r.value.terminals) {
        ids.add(t.terminalId);
        term.write(t.scrollback);
      }
    });
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(host.current!);
    return () => {
      observer.disconnect();
      socket.off('mirror:output', onOutput);
      socket.emit('mirror:close', { learnerId });
      term.dispose();
    };
  }, [socket, workshopId, learnerId, label]);

  return <div ref={host} className={styles.mirrorHost} data-testid="mirror" />;
}
