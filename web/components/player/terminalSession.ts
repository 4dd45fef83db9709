// One xterm.js terminal bound to a terminal in the learner's sandbox, without React: the lesson page's
// boot script (web/boot/terminal.ts) makes the first one before the framework has run, TerminalPane every
// other. It owns the xterm instance and its socket listeners until disposed; disposing detaches (the
// shell keeps running, so a reload re-attaches with scrollback).
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import type { Locale } from '@dockside/lessons';
import type { DocksideSocket } from '../../lib/socket';
import { markLoad } from '../../lib/timing';
import { saveTerminalSize } from './terminalStore';

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

/** What the session tells its owner; replaced when another owner takes it (the player adopting the boot's). */
export type TerminalCallbacks = {
  /** The terminal it shows is open: a new one, or the same one again (a reload, a reconnect). */
  onOpened: (terminalId: string) => void;
  onError: (message: string) => void;
  /** Escape at the prompt (or Shift+Escape anywhere) hands focus back to the page. */
  onLeave: () => void;
  /** Shown when the shell ends: Enter then opens a new one in the same place. */
  exitedText: string;
  /** The language of a new shell's welcome banner. */
  locale: Locale;
};

/**
 * A terminal opened already (with its sandbox: earlySocket.ts): what it printed so far, `unacked` of it
 * sent since it opened (flow control counts it until written), at the size it was opened with.
 */
export type AlreadyOpen = {
  terminalId: string;
  scrollback: string;
  unacked: number;
  exited: boolean;
  cols: number;
  rows: number;
};

export type TerminalSession = {
  /** The element xterm draws in (`data-ready` once the shell's first prompt is drawn). */
  readonly host: HTMLElement;
  readonly sandboxId: string;
  /** The terminal it shows, once the server opened it. */
  readonly terminalId: () => string | undefined;
  callbacks: TerminalCallbacks;
  setLabel: (label: string) => void;
  /** Fits rows and columns to the host (nothing while it is hidden). */
  fit: () => void;
  dispose: () => void;
  disposed: () => boolean;
};

/** xterm opened and fitted in `host`, bound to no terminal yet: a session's costly part, made ahead. */
export type TerminalView = { readonly host: HTMLElement; readonly term: Terminal; readonly fit: FitAddon };

export function createTerminalView(host: HTMLElement): TerminalView {
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
  term.open(host);
  safeFit(fit);
  return { host, term, fit };
}

/**
 * Binds `view`'s xterm to `terminalId` of `sandboxId` (a new terminal when absent or gone), over
 * `socket`; (re)opened on every connect. `opened`: the terminal is open already, shown as it is.
 */
export function openTerminalSession(options: {
  view: TerminalView;
  socket: DocksideSocket;
  sandboxId: string;
  terminalId?: string;
  opened?: AlreadyOpen;
  label: string;
  callbacks: TerminalCallbacks;
}): TerminalSession {
  const { socket, sandboxId } = options;
  const { host: el, term, fit } = options.view;
  const setLabel = (label: string) => term.textarea?.setAttribute('aria-label', label);
  setLabel(options.label);
  safeFit(fit);

  let id = options.terminalId;
  let atPrompt = false;
  let disposed = false;
  let replaying = false;
  let exited = false;
  const session: TerminalSession = {
    host: el,
    sandboxId,
    terminalId: () => id,
    callbacks: options.callbacks,
    setLabel,
    fit: () => safeFit(fit),
    dispose,
    disposed: () => disposed,
  };

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
      session.callbacks.onLeave();
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

  /** Shows the terminal the server opened, from its scrollback; `written` once that is parsed. */
  const attached = (terminalId: string, scrollback: string, written = () => {}) => {
    id = terminalId;
    el.dataset.terminalId = id;
    term.reset();
    // xterm answers queries it parses (cursor position, device attributes); answers to old queries in the
    // replay would be typed into the shell. Until the replay is parsed, only keystrokes go through.
    replaying = true;
    term.write(scrollback, () => {
      replaying = false;
      written();
    });
    session.callbacks.onOpened(id);
    // The size the next page's first terminal asks for.
    saveTerminalSize(term.cols, term.rows);
  };
  const open = () =>
    socket.emit(
      'terminal:open',
      { sandboxId, terminalId: id, cols: term.cols, rows: term.rows, locale: session.callbacks.locale },
      (r) => {
        if (disposed) return;
        markLoad('terminal-open');
        if (!r.ok) return session.callbacks.onError(r.error.message);
        attached(r.value.terminalId, r.value.scrollback);
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
    term.write(`\r\n\x1b[2m${session.callbacks.exitedText}\x1b[0m\r\n`);
  };
  // A reconnect re-attaches to the same terminal: the server sends its scrollback again.
  const onConnect = () => open();
  socket.on('terminal:output', onOutput);
  socket.on('terminal:exit', onExit);
  socket.on('connect', onConnect);
  const already = options.opened;
  if (already) {
    const { terminalId, unacked } = already;
    attached(
      terminalId,
      already.scrollback,
      () => unacked && socket.emit('terminal:ack', { terminalId, chars: unacked }),
    );
    if (term.cols !== already.cols || term.rows !== already.rows)
      socket.emit('terminal:resize', { terminalId, cols: term.cols, rows: term.rows });
    if (already.exited) onExit({ terminalId });
  } else if (socket.connected) open();

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
    saveTerminalSize(cols, rows);
    if (id) socket.emit('terminal:resize', { terminalId: id, cols, rows });
  });
  const observer = new ResizeObserver(() => safeFit(fit));
  observer.observe(el);

  function dispose() {
    if (disposed) return;
    disposed = true;
    observer.disconnect();
    input.dispose();
    resize.dispose();
    socket.off('terminal:output', onOutput);
    socket.off('terminal:exit', onExit);
    socket.off('connect', onConnect);
    term.dispose();
  }
  return session;
}

/** Fit only when laid out: a hidden tab has no size. */
function safeFit(fit: FitAddon) {
  const dims = fit.proposeDimensions();
  if (dims && dims.cols > 1 && dims.rows > 0 && Number.isFinite(dims.cols)) fit.fit();
}
