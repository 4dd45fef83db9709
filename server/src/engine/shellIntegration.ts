import { readFileSync } from 'node:fs';

// Shell integration, as VS Code's terminal does it: the sandbox's bash reports each command line and its
// exit status with OSC 633 escape sequences, which the server reads from the pty stream. Terminals
// ignore unknown OSC sequences, so the browser needs no filtering.
//
// Any program can print such a sequence (`printf '\e]633;E;docker build\a'`), so each terminal has a
// secret nonce and only reports that carry it count, as VS Code's do: the shell gets it on a descriptor
// (NONCE_FD) that its start-up file reads into a variable it does not export and then closes, so no
// program the learner runs inherits it (terminals.ts starts the shell; server/API.md says what remains).

/** The rc file our terminals start bash with: the usual login set-up, then the reporting prompt hook. */
export const SHELL_RC_PATH = '/etc/dockside/bashrc';
export const SHELL_RC = readFileSync(new URL('./dockside-bashrc.sh', import.meta.url), 'utf8');

/** The descriptor the terminal's nonce arrives on (dockside-bashrc.sh reads it first thing). */
export const NONCE_FD = 3;

/**
 * The argv that starts a terminal's shell: a bash that moves the nonce from its environment to a here-string
 * on NONCE_FD, then execs the interactive shell without it, so /proc/PID/environ of the shell the learner
 * uses does not show it.
 */
export function shellArgv(nonceVar: string): string[] {
  const script = `exec ${NONCE_FD}<<<"$${nonceVar}"; unset ${nonceVar}; exec bash --rcfile "$1" -i`;
  return ['bash', '-c', script, 'dockside', SHELL_RC_PATH];
}

/**
 * A command line that finished: the status the shell reported for it and, when they say more than that,
 * the statuses of the commands of the last pipeline it ran (bash's PIPESTATUS: `false | true` gives
 * `[1, 0]`; left out when it is just `[exitCode]`).
 */
export type CommandEvent = { commandLine: string; exitCode: number; pipeStatus?: number[] };

const START = '\x1b]633;';
const MAX_PENDING = 16 * 1024;

/** Reads OSC 633 reports out of a pty stream that may split them across chunks. */
export class ShellIntegrationParser {
  private pending = '';
  private commandLine: string | null = null;

  /** Only reports that end with `;<nonce>` count. */
  constructor(private readonly nonce: string) {
    if (!/^[0-9a-f]{16,}$/.test(nonce)) throw new Error('a terminal nonce is at least 16 hex digits');
  }

  /** Feeds output; returns the commands that finished in it. */
  feed(chunk: string): CommandEvent[] {
    let text = this.pending + chunk;
    this.pending = '';
    const done: CommandEvent[] = [];
    for (;;) {
      const start = text.indexOf(START);
      if (start < 0) {
        // Keep a tail that could be the beginning of a sequence.
        const esc = text.lastIndexOf('\x1b');
        if (esc >= 0 && text.length - esc < START.length) this.pending = text.slice(esc);
        break;
      }
      const bel = text.indexOf('\x07', start);
      const st = text.indexOf('\x1b\\', start);
      const end = bel < 0 ? st : st < 0 ? bel : Math.min(bel, st);
      if (end < 0) {
        if (text.length - start <= MAX_PENDING) this.pending = text.slice(start);
        break;
      }
      // A sequence a program left open must not swallow the real report after it: read the last one.
      const last = text.lastIndexOf(START, end);
      this.handle(text.slice(last + START.length, end), done);
      text = text.slice(end + (text[end] === '\x07' ? 1 : 2));
    }
    return done;
  }

  /**
   * `E;<command line in hex>;<nonce>` then `D;<exit status>;<PIPESTATUS, comma-separated>;<nonce>`, exactly
   * as the prompt hook prints (or `D;<exit status>;<nonce>`, as it printed before).
   */
  private handle(body: string, done: CommandEvent[]): void {
    const fields = body.split(';');
    if (fields.at(-1) !== this.nonce) return;
    const [code, arg, pipe] = fields as [string, string, string | undefined];
    if (code === 'E' && fields.length === 3 && /^(?:[0-9a-f]{2})*$/.test(arg)) {
      this.commandLine = Buffer.from(arg, 'hex').toString('utf8');
    } else if (
      code === 'D' &&
      this.commandLine !== null &&
      /^\d{1,3}$/.test(arg) &&
      // A shell started before the statuses were reported (terminals outlive the server) sends `D;<status>`.
      (fields.length === 3 || (fields.length === 4 && /^\d{1,3}(?:,\d{1,3}){0,255}$/.test(pipe!)))
    ) {
      const exitCode = Number(arg);
      const pipeStatus = fields.length === 4 ? pipe!.split(',').map(Number) : [exitCode];
      const more = pipeStatus.length > 1 || pipeStatus[0] !== exitCode;
      done.push({ commandLine: this.commandLine, exitCode, ...(more ? { pipeStatus } : {}) });
      this.commandLine = null;
    }
  }
}
