import { describe, expect, it } from 'vitest';
import { evaluate, type CheckContext, type CheckSpec } from './checks';
import { commandsRan } from './commandLine';

describe('the simple commands of a command line', () => {
  it('a chained pull and history both ran, and succeeded', () => {
    expect(commandsRan('docker pull python:3-slim && docker history python:3-slim', 0)).toEqual([
      { command: 'docker pull python:3-slim', exitCode: 0 },
      { command: 'docker history python:3-slim', exitCode: 0 },
    ]);
  });

  it('a command after && that may not have run is left out when the line failed', () => {
    expect(commandsRan('docker pull nope && docker history nope', 1)).toEqual([
      { command: 'docker pull nope', exitCode: null },
    ]);
  });

  it('|| runs the second command only after a failure', () => {
    expect(commandsRan('docker rm box || docker rm -f box', 1)).toEqual([
      { command: 'docker rm box', exitCode: null },
      { command: 'docker rm -f box', exitCode: 1 },
    ]);
    expect(commandsRan('docker rm box || echo gone', 0)).toEqual([{ command: 'docker rm box', exitCode: null }]);
  });

  it('; and newlines start lists whose first command always runs', () => {
    expect(commandsRan('docker images; docker ps -a\ndocker info', 0)).toEqual([
      { command: 'docker images', exitCode: null },
      { command: 'docker ps -a', exitCode: null },
      { command: 'docker info', exitCode: 0 },
    ]);
  });

  it('every command of a pipeline ran; only the last one has the reported status', () => {
    expect(commandsRan('docker history myapp | head -3 |& cat', 0)).toEqual([
      { command: 'docker history myapp', exitCode: null },
      { command: 'head -3', exitCode: null },
      { command: 'cat', exitCode: 0 },
    ]);
  });

  it("each command of the line's last pipeline gets its own status, from PIPESTATUS", () => {
    expect(commandsRan('false | true', 0, [1, 0])).toEqual([
      { command: 'false', exitCode: 1 },
      { command: 'true', exitCode: 0 },
    ]);
    expect(commandsRan('docker history nope | head', 0, [1, 0])).toEqual([
      { command: 'docker history nope', exitCode: 1 },
      { command: 'head', exitCode: 0 },
    ]);
    // Only the last pipeline's: one before it still has the status of its last command where the line says.
    expect(commandsRan('docker images | head -1 && docker ps | grep web', 0, [0, 0])).toEqual([
      { command: 'docker images', exitCode: null },
      { command: 'head -1', exitCode: 0 },
      { command: 'docker ps', exitCode: 0 },
      { command: 'grep web', exitCode: 0 },
    ]);
    expect(commandsRan('docker images | head -1; docker ps | grep web', 1, [0, 1])).toEqual([
      { command: 'docker images', exitCode: null },
      { command: 'head -1', exitCode: null },
      { command: 'docker ps', exitCode: 0 },
      { command: 'grep web', exitCode: 1 },
    ]);
    expect(commandsRan('docker images; docker history x | head', 0, [0, 0])).toEqual([
      { command: 'docker images', exitCode: null },
      { command: 'docker history x', exitCode: 0 },
      { command: 'head', exitCode: 0 },
    ]);
  });

  it('PIPESTATUS of a pipeline that may not be the last one that ran is not given to it', () => {
    // `docker pull nope` failed and the pipeline after && did not run: PIPESTATUS is the pull's.
    expect(commandsRan('docker pull nope && docker history nope | head', 1, [1])).toEqual([
      { command: 'docker pull nope', exitCode: null },
    ]);
    // A pipeline in the background reports nothing; one of another length is not the last pipeline's.
    expect(commandsRan('docker logs -f web | grep GET &', 0, [0])).toEqual([
      { command: 'docker logs -f web', exitCode: null },
      { command: 'grep GET', exitCode: null },
    ]);
    expect(commandsRan('false | true', 0, [0])).toEqual([
      { command: 'false', exitCode: null },
      { command: 'true', exitCode: 0 },
    ]);
  });

  it('quotes, substitutions, subshells and redirections are not separators', () => {
    expect(commandsRan(`echo "a;b|c" 'x && y' \\; $(date; true) 2>&1 >| out &>all`, 0)).toEqual([
      { command: `echo "a;b|c" 'x && y' \\; $(date; true) 2>&1 >| out &>all`, exitCode: 0 },
    ]);
  });

  it('a command put in the background has no status', () => {
    expect(commandsRan('docker run --name web nginx &', 0)).toEqual([
      { command: 'docker run --name web nginx', exitCode: null },
    ]);
    expect(commandsRan('sleep 1 & docker ps', 0)).toEqual([
      { command: 'sleep 1', exitCode: null },
      { command: 'docker ps', exitCode: 0 },
    ]);
  });
});

describe('a commandRun check', () => {
  const history = { kind: 'commandRun', pattern: '^docker (image )?history .*python', exitCode: 0 } as const;
  const run = (commandLine: string, exitCode: number, pipeStatus = [exitCode]) =>
    evaluate(history as CheckSpec, { commands: [{ commandLine, exitCode, pipeStatus }] } as unknown as CheckContext);

  it('counts a command chained after another ("You read its history" after pull && history)', async () => {
    expect(await run('docker pull python:3-slim && docker history python:3-slim', 0)).toEqual({ passed: true });
    expect(await run('docker images; docker history python:3-slim | head', 0)).toEqual({ passed: true });
  });

  it('does not count a command that did not run, or one that failed', async () => {
    expect((await run('docker pull nope && docker history python:3-slim', 1)).passed).toBe(false);
    expect((await run('docker images && docker history python:3-nope', 1)).passed).toBe(false);
    expect((await run('docker history python:3-nope', 1)).hint?.en).toContain('status 1');
  });

  it("judges a command piped into another by its own status, not the pipeline's", async () => {
    expect(await run('docker history python:3-slim | head', 0, [0, 0])).toEqual({ passed: true });
    const failed = await run('docker history python:3-nope | head', 0, [1, 0]);
    expect(failed.passed).toBe(false);
    expect(failed.hint?.en).toContain('status 1');
  });
});
