import { describe, expect, it } from 'vitest';
import { ShellIntegrationParser } from './shellIntegration';

const NONCE = '0123456789abcdef0123456789abcdef';
const hex = (cmd: string) => Buffer.from(cmd).toString('hex');
const report = (cmd: string, code: number, nonce = NONCE, pipe = [code]) =>
  `\x1b]633;E;${hex(cmd)};${nonce}\x07\x1b]633;D;${code};${pipe.join(',')};${nonce}\x07\x1b]633;A\x07`;

describe('shell integration parser', () => {
  it('reads command lines and exit codes', () => {
    const p = new ShellIntegrationParser(NONCE);
    expect(p.feed(`hello\r\n${report('docker run hello-world', 0)}$ `)).toEqual([
      { commandLine: 'docker run hello-world', exitCode: 0 },
    ]);
    expect(p.feed(report('false; echo "a;b" | grep 한글', 1, NONCE, [0, 1]))).toEqual([
      { commandLine: 'false; echo "a;b" | grep 한글', exitCode: 1, pipeStatus: [0, 1] },
    ]);
  });

  it('reads the status of each command of the last pipeline, and a report from before they were sent', () => {
    const p = new ShellIntegrationParser(NONCE);
    expect(p.feed(report('false | true', 0, NONCE, [1, 0]))).toEqual([
      { commandLine: 'false | true', exitCode: 0, pipeStatus: [1, 0] },
    ]);
    // A simple command's one status is the line's: nothing more to say. `! false` has one of its own.
    expect(p.feed(report('docker ps', 0, NONCE, [0]))).toEqual([{ commandLine: 'docker ps', exitCode: 0 }]);
    expect(p.feed(report('! false', 0, NONCE, [1]))).toEqual([
      { commandLine: '! false', exitCode: 0, pipeStatus: [1] },
    ]);
    // A shell that started before statuses were reported (its terminal outlived the server) says less.
    expect(p.feed(`\x1b]633;E;${hex('docker ps')};${NONCE}\x07\x1b]633;D;2;${NONCE}\x07`)).toEqual([
      { commandLine: 'docker ps', exitCode: 2 },
    ]);
    // A status list that is not numbers, or one field too many, is no report.
    expect(p.feed(`\x1b]633;E;${hex('docker ps')};${NONCE}\x07\x1b]633;D;0;0,x;${NONCE}\x07`)).toEqual([]);
    expect(p.feed(`\x1b]633;E;${hex('docker ps')};${NONCE}\x07\x1b]633;D;0;0;0;${NONCE}\x07`)).toEqual([]);
  });

  it('handles reports split across chunks at any point', () => {
    const stream = `out${report('docker ps -a', 0)}more${report('docker images', 2)}`;
    for (let cut = 0; cut < stream.length; cut++) {
      const p = new ShellIntegrationParser(NONCE);
      const events = [...p.feed(stream.slice(0, cut)), ...p.feed(stream.slice(cut))];
      expect(events).toEqual([
        { commandLine: 'docker ps -a', exitCode: 0 },
        { commandLine: 'docker images', exitCode: 2 },
      ]);
    }
  });

  it('ignores other escape sequences and an exit code without a command', () => {
    const p = new ShellIntegrationParser(NONCE);
    expect(p.feed(`\x1b[31mred\x1b[0m\x1b]0;title\x07\x1b]633;D;0;${NONCE}\x07`)).toEqual([]);
  });

  it('ignores a report a program printed without the nonce, or with another', () => {
    const p = new ShellIntegrationParser(NONCE);
    // What `printf '\e]633;E;docker build .\a\e]633;D;0\a'` prints, as VS Code's old format and as ours.
    expect(p.feed('\x1b]633;E;docker build .\x07\x1b]633;D;0\x07')).toEqual([]);
    expect(p.feed(`\x1b]633;E;${hex('docker build .')}\x07\x1b]633;D;0\x07`)).toEqual([]);
    expect(p.feed(report('docker build .', 0, 'f'.repeat(32)))).toEqual([]);
    expect(p.feed(report('docker build .', 0, ''))).toEqual([]);
    // A nonce in the wrong place, or extra fields, are not a report either.
    expect(p.feed(`\x1b]633;E;${hex('docker build .')};x;${NONCE}\x07\x1b]633;D;0;${NONCE}\x07`)).toEqual([]);
    expect(p.feed(`\x1b]633;E;docker build .;${NONCE}\x07\x1b]633;D;0;${NONCE}\x07`)).toEqual([]);
  });

  it('does not let a sequence a program left open take over the real report after it', () => {
    const p = new ShellIntegrationParser(NONCE);
    // The program prints an unterminated "E;docker build;" and exits; the prompt then reports `cat x`.
    expect(p.feed(`\x1b]633;E;docker build .;${report('cat x', 0)}`)).toEqual([{ commandLine: 'cat x', exitCode: 0 }]);
    expect(p.feed(`\x1b]633;E;${hex('docker build .')};`)).toEqual([]);
    expect(p.feed(report('cat y', 0))).toEqual([{ commandLine: 'cat y', exitCode: 0 }]);
  });

  it('refuses a nonce too short to be secret', () => {
    expect(() => new ShellIntegrationParser('')).toThrow(/16 hex digits/);
  });
});
