import { describe, expect, it } from 'vitest';
import { ShellIntegrationParser } from './shellIntegration';

const report = (cmd: string, code: number) =>
  `\x1b]633;E;${Buffer.from(cmd).toString('hex')}\x07\x1b]633;D;${code}\x07\x1b]633;A\x07`;

describe('shell integration parser', () => {
  it('reads command lines and exit codes', () => {
    const p = new ShellIntegrationParser();
    expect(p.feed(`hello\r\n${report('docker run hello-world', 0)}$ `)).toEqual([
      { commandLine: 'docker run hello-world', exitCode: 0 },
    ]);
    expect(p.feed(report('false; echo "a;b" | grep 한글', 1))).toEqual([
      { commandLine: 'false; echo "a;b" | grep 한글', exitCode: 1 },
    ]);
  });

  it('handles reports split across chunks at any point', () => {
    const stream = `out${report('docker ps -a', 0)}more${report('docker images', 2)}`;
    for (let cut = 0; cut < stream.length; cut++) {
      const p = new ShellIntegrationParser();
      const events = [...p.feed(stream.slice(0, cut)), ...p.feed(stream.slice(cut))];
      expect(events).toEqual([
        { commandLine: 'docker ps -a', exitCode: 0 },
        { commandLine: 'docker images', exitCode: 2 },
      ]);
    }
  });

  it('ignores other escape sequences and an exit code without a command', () => {
    const p = new ShellIntegrationParser();
    expect(p.feed('\x1b[31mred\x1b[0m\x1b]0;title\x07\x1b]633;D;0\x07')).toEqual([]);
  });
});
