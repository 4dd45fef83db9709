import { readFileSync } from 'node:fs';

// Shell integration, as VS Code's terminal does it: the sandbox's bash reports each command line and its
// exit status with OSC 633 escape sequences, which the server reads from the pty stream. Terminals
// ignore unknown OSC sequences, so the browser needs no filtering.

/** The rc file our terminals start bash with: the usual login set-up, then the reporting prompt hook. */
export const SHELL_RC_PATH = '/etc/dockside/bashrc';
export const SHELL_RC = readFileSync(new URL('./dockside-bashrc.sh', import.meta.url), 'utf8');

export type CommandEvent = { commandLine: string; exitCode: number };

const START = '\x1b]633;';
const MAX_PENDING = 16 * 1024;

/** Reads OSC 633 reports out of a pty stream that may split them across chunks. */
export class ShellIntegrationParser {
  private pending = '';
  private commandLine: string | null = null;

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
      this.handle(text.slice(start + START.length, end), done);
      text = text.slice(end + (text[end] === '\x07' ? 1 : 2));
    }
    return done;
  }

  private handle(body: string, done: CommandEvent[]): void {
    const [code, ...rest] = body.split(';');
    const arg = rest.join(';');
    if (code === 'E') {
      this.commandLine = /^[0-9a-f]*$/.test(arg) ? Buffer.from(arg, 'hex').toString('utf8') : arg;
    } else if (code === 'D' && this.commandLine !== null) {
      const exitCode = Number.parseInt(arg, 10);
      done.push({ commandLine: this.commandLine, exitCode: Number.isFinite(exitCode) ? exitCode : 0 });
      this.commandLine = null;
    }
  }
}
