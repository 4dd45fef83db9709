// Commands run from the helper process, not from this one, and come back as they would from a spawn here:
// their exit, their output (capped), their errors, stopped when they run too long; a helper that dies
// fails what it was running, and the next command gets a new one.
import { describe, expect, it } from 'vitest';
import { Spawner } from './spawner';

const base = {
  env: { PATH: process.env.PATH } as unknown as NodeJS.ProcessEnv,
  maxOutputBytes: 1 << 20,
  maxStderrChars: 100,
};
const sh = (script: string, more: Partial<Parameters<Spawner['run']>[0]> = {}) => ({
  ...base,
  bin: '/bin/sh',
  args: ['-c', script],
  ...more,
});

describe('the spawner', () => {
  it("runs a command in its own process, with the caller's stdin, and gives back its exit and output", async () => {
    const s = new Spawner();
    const r = await s.run(sh('cat; echo "parent=$PPID" >&2; exit 3', { stdin: Buffer.from([0, 1, 2, 255]) }));
    expect(r.code).toBe(3);
    expect([...r.stdout]).toEqual([0, 1, 2, 255]);
    const parent = Number(/parent=(\d+)/.exec(r.stderr)?.[1]);
    expect(parent).toBeGreaterThan(0);
    expect(parent).not.toBe(process.pid); // the helper started it, not this process
    // Many at once, each answered with its own.
    const many = await Promise.all([1, 2, 3, 4, 5].map((n) => s.run(sh(`echo ${n}`))));
    expect(many.map((m) => m.stdout.toString().trim())).toEqual(['1', '2', '3', '4', '5']);
  });

  it('caps what a command prints and stops one that runs too long', async () => {
    const s = new Spawner();
    const loud = await s.run(sh('exec yes', { maxOutputBytes: 4096 }));
    expect(loud.overflow).toBe(true);
    expect(loud.stdout.length).toBeLessThanOrEqual(4096);
    const quiet = await s.run(sh('echo $(head -c 500 /dev/zero | tr "\\0" x) >&2'));
    expect(quiet.stderr.length).toBe(100);
    const t0 = Date.now();
    const slow = await s.run(sh('exec sleep 30', { timeoutMs: 200 }));
    expect(slow.timedOut).toBe(true);
    expect(slow.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('says a command could not start, and starts a new helper after one died', async () => {
    const s = new Spawner();
    await expect(s.run({ ...base, bin: '/nonexistent/bin', args: [] })).rejects.toThrow(/ENOENT/);
    // The helper's own pid, from a command it runs; then it is killed while running another.
    const helper = Number((await s.run(sh('echo $PPID'))).stdout.toString());
    const running = s.run(sh('exec sleep 30'));
    process.kill(helper, 'SIGKILL');
    await expect(running).rejects.toThrow(/ended/);
    const after = await s.run(sh('echo $PPID'));
    expect(Number(after.stdout.toString())).not.toBe(helper);
  });

  it("outlives a stop signal to the server's process group (the server still needs it to clean up)", async () => {
    const s = new Spawner();
    const helper = Number((await s.run(sh('echo $PPID'))).stdout.toString());
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.kill(helper, signal);
    await new Promise((r) => setTimeout(r, 200));
    expect(Number((await s.run(sh('echo $PPID'))).stdout.toString())).toBe(helper);
    // Killed for good, and asked at once (before its end is heard of): the command runs in a new one.
    process.kill(helper, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    const r = await s.run(sh('echo ok'));
    expect(r.stdout.toString().trim()).toBe('ok');
  });
});
