'use client';
// One xterm.js terminal bound to a terminal in the learner's sandbox. It owns the xterm instance and its
// socket listeners for its lifetime; unmounting detaches (the shell keeps running, so a reload re-attaches
// with scrollback). Loaded lazily: the lesson text does not wait for xterm.
import { useEffect, useRef } from 'react';
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import '@xterm/xterm/css/xterm.css';
import type { Locale } from '@dockside/lessons';
import type { DocksideSocket } from '../../lib/socket';
import { markLoad } from '../../lib/timing';

// Light, like the page; ANSI colours darkened so each passes 4.5:1 on the background.
const THEME: ITheme = {
  background: '#ffffff',
  foreground: '#1b1f24',
  cursor: '#0b5cad',
  cursorAccent: '#ffffff',
  selectionBackground: '#b6d4f2',
  black: '#1b1f24',
  red: '#b3261e',
  green: '#1a7f37',
  yellow: '#7a5800',
  blue: '#0b5cad',
  magenta: '#8a3ab9',
  cyan: '#0b6e77',
  white: '#5c6672',
  brightBlack: '#4a5360',
  brightRed: '#a4161a',
  brightGreen: '#116329',
  brightYellow: '#6b4d00',
  brightBlue: '#0a4f94',
  brightMagenta: '#7a2ea6',
  brightCyan: '#095c63',
  brightWhite: '#3d4550',
};

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
  onOpened: (terminalId: string) => void;
  onError: (message: string) => void;
  /** Escape at the prompt (or Shift+Escape anywhere) hands focus back to the page. */
  onLeave: () => void;
};

export default function TerminalPane({
  socket,
  sandboxId,
  terminalId,
  label,
  exitedText,
  locale,
  active,
  onOpened,
  onError,
  onLeave,
}: TerminalPaneProps) {
  const host = useRef<HTMLDivElement>(null);
  const fitRef = useRef<FitAddon | null>(null);
  const termRef = useRef<Terminal | null>(null);
  const callbacks = useRef({ onOpened, onError, onLeave, exitedText, locale });
  callbacks.current = { onOpened, onError, onLeave, exitedText, locale };

  useEffect(() => {
    const el = host.current!;
    const term = new Terminal({
      theme: THEME,
      fontFamily: "'DejaVu Sans Mono', 'Noto Sans Mono', Menlo, Consolas, monospace",
      fontSize: 14,
      // At 1.0 the row is no taller than the font's ascent and descent, and DejaVu's `_` falls outside it.
      lineHeight: 1.2,
      cursorBlink: true,
      scrollback: 5000,
      allowProposedApi: true,
      screenReaderMode: false,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.loadAddon(new WebLinksAddon());
    term.open(el);
    term.textarea?.setAttribute('aria-label', label);
    termRef.current = term;
    fitRef.current = fit;
    safeFit(fit);

    let id = terminalId;
    let atPrompt = false;
    let disposed = false;
    let replaying = false;
    let exited = false;

    term.parser.registerOscHandler(633, (data) => {
      if (data === 'A') {
        atPrompt = true;
        markLoad('prompt');
        el.dataset.ready = 'true';
      }
      return true;
    });
    term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown') return true;
      if (e.key === 'Escape' && (e.shiftKey || atPrompt)) {
        callbacks.current.onLeave();
        return false;
      }
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.shiftKey && e.code === 'KeyC') {
        void navigator.clipboard?.writeText(term.getSelection()).catch(() => undefined);
        return false;
      }
      if (e.metaKey && e.code === 'KeyC' && term.hasSelection()) {
        void navigator.clipboard?.writeText(term.getSelection()).catch(() => undefined);
        return false;
      }
      return true;
    });

    const open = () =>
      socket.emit(
        'terminal:open',
        { sandboxId, terminalId: id, cols: term.cols, rows: term.rows, locale: callbacks.current.locale },
        (r) => {
          if (disposed) return;
          markLoad('terminal-open');
          if (!r.ok) return callbacks.current.onError(r.error.message);
          const fresh = id !== r.value.terminalId;
          id = r.value.terminalId;
          el.dataset.terminalId = id;
          term.reset();
          if (r.value.scrollback) {
            // xterm answers queries it parses (cursor position, device attributes); answers to old queries in
            // the replay would be typed into the shell. Until the replay is parsed, only keystrokes go through.
            replaying = true;
            term.write(r.value.scrollback, () => {
              replaying = false;
            });
          }
          if (fresh) callbacks.current.onOpened(id);
        },
      );

    const onOutput = (o: { terminalId: string; data: string }) => {
      if (o.terminalId !== id) return;
      const chars = o.data.length;
      term.write(o.data, () => socket.emit('terminal:ack', { terminalId: o.terminalId, chars }));
    };
    const onExit = (e: { terminalId: string }) => {
      if (e.terminalId !== id) return;
      exited = true;
      term.write(`\r\n\x1b[2m${callbacks.current.exitedText}\x1b[0m\r\n`);
    };
    // A reconnect re-attaches to the same terminal: the server sends its scrollback again.
    const onConnect = () => open();
    socket.on('terminal:output', onOutput);
    socket.on('terminal:exit', onExit);
    socket.on('connect', onConnect);
    if (socket.connected) open();

    const input = term.onData((data) => {
      if (!id) return;
      if (exited) {
        // Nothing reads a finished shell: Enter starts a new one here, anything else is dropped.
        if (data.includes('\r')) {
          exited = false;
          id = undefined;
          open();
        }
        return;
      }
      if (replaying && data.startsWith('\x1b')) return;
      if (data.includes('\r')) atPrompt = false;
      socket.emit('terminal:input', { terminalId: id, data });
    });
    const resize = term.onResize(({ cols, rows }) => {
      if (id) socket.emit('terminal:resize', { terminalId: id, cols, rows });
    });
    const observer = new ResizeObserver(() => safeFit(fit));
    observer.observe(el);

    return () => {
      disposed = true;
      observer.disconnect();
      input.dispose();
      resize.dispose();
      socket.off('terminal:output', onOutput);
      socket.off('terminal:exit', onExit);
      socket.off('connect', onConnect);
      term.dispose();
      termRef.current = null;
      fitRef.current = null;
    };
    // The terminal is bound to one sandbox for its life; a new sandbox mounts a new pane.
  }, [socket, sandboxId]);

  useEffect(() => {
    termRef.current?.textarea?.setAttribute('aria-label', label);
  }, [label]);

  useEffect(() => {
    if (!active) return;
    const fit = fitRef.current;
    if (fit) safeFit(fit);
  }, [active]);

  return <div ref={host} className="terminal-host" data-testid="terminal" />;
}

/** Fit only when laid out: a hidden tab has no size. */
function safeFit(fit: FitAddon) {
  const dims = fit.proposeDimensions();
  if (dims && dims.cols > 1 && dims.rows > 0 && Number.isFinite(dims.cols)) fit.fit();
}
