'use client';
// A learner's terminals, mirrored read-only for the instructor (typing goes nowhere). It follows the
// learner: a terminal they open later (or the new one after a reset) appears by itself; with several,
// buttons switch between them.
import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import type { WorkshopMessages } from './messages';
import type { InstructorSocket } from './socket';
import styles from './workshop.module.css';

/** Output kept per terminal for switching between them (the server's scrollback is the same size). */
const KEEP_CHARS = 256 * 1024;

export default function MirrorTerminal({
  socket,
  workshopId,
  learnerId,
  label,
  m,
  onError,
}: {
  socket: InstructorSocket;
  workshopId: string;
  learnerId: string;
  label: string;
  m: WorkshopMessages;
  onError: (message: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;
  const [terminals, setTerminals] = useState<string[]>([]);
  const [shown, setShown] = useState<string | null>(null);
  const show = useRef<(id: string | null) => void>(() => {});

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

    const buffers = new Map<string, string>(); // terminalId → its output so far, in order of opening
    // Output that overtook the message announcing its terminal (sent between attaching and announcing).
    const early = new Map<string, string>();
    let current: string | null = null;
    show.current = (id) => {
      current = id;
      setShown(id);
      term.reset();
      if (id) term.write(buffers.get(id) ?? '');
    };
    const keep = (id: string, data: string) => {
      const text = (buffers.get(id) ?? '') + data;
      buffers.set(id, text.length > KEEP_CHARS ? text.slice(-KEEP_CHARS) : text);
    };
    const update = (added: { terminalId: string; scrollback: string }[], removed: string[]) => {
      for (const id of removed) buffers.delete(id);
      for (const t of added) {
        buffers.set(t.terminalId, t.scrollback + (early.get(t.terminalId) ?? ''));
        early.delete(t.terminalId);
      }
      setTerminals([...buffers.keys()]);
      // The newest terminal is the one the learner is most likely typing in.
      if (added.length) show.current(added.at(-1)!.terminalId);
      else if (current && !buffers.has(current)) show.current([...buffers.keys()].at(-1) ?? null);
    };

    const onOutput = (o: { terminalId: string; data: string }) => {
      if (!buffers.has(o.terminalId)) {
        if (early.size < 8) early.set(o.terminalId, ((early.get(o.terminalId) ?? '') + o.data).slice(-KEEP_CHARS));
        return;
      }
      keep(o.terminalId, o.data);
      if (o.terminalId === current) term.write(o.data);
    };
    const onTerminals = (o: {
      learnerId: string;
      added: { terminalId: string; scrollback: string }[];
      removed: string[];
    }) => {
      if (o.learnerId === learnerId) update(o.added, o.removed);
    };
    socket.on('mirror:output', onOutput);
    socket.on('mirror:terminals', onTerminals);
    socket.emit('mirror:open', { workshopId, learnerId }, (r) => {
      if (!r.ok) return onErrorRef.current(r.error.message);
      update(r.value.terminals, []);
    });
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(host.current!);
    return () => {
      observer.disconnect();
      socket.off('mirror:output', onOutput);
      socket.off('mirror:terminals', onTerminals);
      socket.emit('mirror:close', { learnerId });
      show.current = () => {};
      term.dispose();
    };
  }, [socket, workshopId, learnerId, label]);

  return (
    <div className={styles.mirror}>
      {terminals.length > 1 && (
        <div className={styles.rowActions} role="group" aria-label={label}>
          {terminals.map((id, i) => (
            <button
              key={id}
              type="button"
              className="small-button"
              aria-pressed={id === shown}
              onClick={() => show.current(id)}
            >
              {m.terminalN(i + 1)}
            </button>
          ))}
        </div>
      )}
      {terminals.length === 0 && (
        <p className="small muted" role="status">
          {m.noTerminal}
        </p>
      )}
      <div ref={host} className={styles.mirrorHost} data-testid="mirror" data-terminal-id={shown ?? ''} />
    </div>
  );
}
