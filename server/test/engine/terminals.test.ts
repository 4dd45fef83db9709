// The terminal hub against a real sandbox: bash under the native session holder, attached over its socket.
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import type { CommandEvent } from '../../src/engine/shellIntegration';
import { HIGH_WATER, RingBuffer, TerminalHub, type Terminal, type Viewer } from '../../src/engine/terminals';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const rt = new NativeRuntime(SHARED_DATA_DIR);
const SB = 'term-a';
const SB2 = 'term-b';
const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 1024 ** 3 };
const commands: { sandboxId: string; e: CommandEvent }[] = [];
const SECRET = 'a-test-secret-of-thirty-two-characters';
const hub = new TerminalHub(rt, (sandboxId, e) => commands.push({ sandboxId, e }), SECRET);
const opened: Terminal[] = [];
const open = async (sandboxId = SB) => {
  const t = await hub.open(sandboxId, 80, 24);
  opened.push(t);
  return t;
};

function viewer(opts: { readOnly?: boolean } = {}): Viewer & { out: () => string } {
  let out = '';
  return { send: (d) => (out += d), exit: () => {}, readOnly: opts.readOnly ?? false, out: () => out };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function ready(t: Terminal): Promise<void> {
  await until(() => t.scrollback.text().includes('\x1b]633;A'));
}

describe.runIf(sandboxesAvailable())('terminals', () => {
  beforeAll(async () => {
    await Promise.all([SB, SB2].map((id) => rt.destroy(id).catch(() => {})));
    await Promise.all([rt.create(SB, 261, limits), rt.create(SB2, 262, limits)]);
  }, 120_000);
  afterEach(() => {
    for (const t of opened.splice(0)) t.kill();
  });
  afterAll(async () => {
    hub.releaseAll();
    await Promise.all([SB, SB2].map((id) => rt.destroy(id).catch(() => {})));
  });

  it('holds no pty of its own: every terminal lives in its sandbox, reached over a socket only root and the server may open', async () => {
    await open();
    await open(SB2);
    const ptys = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return /^\/dev\/(ptmx|pts\/)/.test(readlinkSync(`/proc/self/fd/${fd}`));
      } catch {
        return false;
      }
    });
    expect(ptys).toEqual([]);
    expect((await rt.sessions(SB)).length).toBeGreaterThanOrEqual(1);
  });

  it('reports each command and its exit status through shell integration', async () => {
    const t = await open();
    const v = viewer();
    t.attach(v);
    await ready(t);
    commands.length = 0;
    t.write('echo hello\r');
    t.write('false\r');
    t.write('echo hello\r');
    await until(() => commands.length === 3);
    expect(commands.map((c) => c.e)).toMatchObject([
      { commandLine: 'echo hello', exitCode: 0 },
      { commandLine: 'false', exitCode: 1 },
      { commandLine: 'echo hello', exitCode: 0 },
    ]);
    expect(commands.every((c) => c.sandboxId === SB)).toBe(true);
    expect(v.out()).toContain('hello');
  });

  it('does not count a report a program prints without the nonce (printf of the OSC 633 sequence)', async () => {
    const t = await open();
    const v = viewer();
    t.attach(v);
    await ready(t);
    commands.length = 0;
    const fake = '/workspace/fake-report';
    const hexed = Buffer.from('docker build -t app .').toString('hex');
    // The old format, ours without the nonce, and ours with a made-up one, from a file and from printf.
    const written = await rt.file(SB, 'write', [fake], {
      stdin: Buffer.from(
        `\x1b]633;E;docker build -t app .\x07\x1b]633;D;0\x07` +
          `\x1b]633;E;${hexed}\x07\x1b]633;D;0\x07` +
          `\x1b]633;E;${hexed};${'0'.repeat(32)}\x07\x1b]633;D;0;${'0'.repeat(32)}\x07`,
      ),
    });
    expect(written.code).toBe(0);
    const lines = [`cat ${fake}`, "printf '\\e]633;E;docker build -t app .\\a\\e]633;D;0\\a'", 'echo real-$((6*7))'];
    for (const line of lines) {
      const before = commands.length;
      t.write(`${line}\r`);
      await until(() => commands.length > before);
    }
    expect(commands.map((c) => c.e.commandLine)).toEqual(lines);
    expect(v.out()).toContain('real-42');
  });

  it("keeps the nonce out of the environment, arguments and descriptors of the learner's programs", async () => {
    const t = await open();
    const v = viewer();
    t.attach(v);
    await ready(t);
    /** Runs a line; what it printed as `[...]-2` (the arithmetic keeps the typed line from matching). */
    const shown = async (line: string) => {
      const from = v.out().length;
      t.write(`echo "[${line}]-$((1+1))"\r`);
      await until(() => /\[[^\]\r\n]*\]-2/.test(v.out().slice(from)));
      return /\[([^\]\r\n]*)\]-2/.exec(v.out().slice(from))![1];
    };
    expect(await shown('$(env | grep -c DOCKSIDE_NONCE)')).toBe('0');
    expect(await shown('$(tr "\\0" "\\n" < /proc/$$/environ | grep -c DOCKSIDE_NONCE)')).toBe('0');
    // The shell's own descriptors, listed by a program it started (no command substitution, whose pipe
    // the shell would hold while it runs): no descriptor 3 left.
    t.write('ls /proc/$$/fd > /workspace/fds\r');
    await shown(''); // the shell runs lines in order: the listing is written once this prints
    const fds = (await rt.file(SB, 'read', ['/workspace/fds'])).stdout.toString().trim().split('\n');
    expect(fds).toContain('0');
    expect(fds).not.toContain('3');
    expect(await shown("$(bash -c 'echo ${__dockside_nonce}')")).toBe('');
    // What remains: the shell's own variable (not exported), which the learner can of course print.
    expect(await shown('${#__dockside_nonce}')).toBe('32');
  });

  it('keeps running without a browser and gives the scrollback back on re-attach', async () => {
    const t = await open();
    const first = viewer();
    t.attach(first);
    await ready(t);
    t.detach(first);
    t.write('for i in 1 2 3; do echo line-$i; done\r');
    await until(() => t.scrollback.text().includes('line-3'));
    const again = viewer();
    expect(t.attach(again)).toContain('line-3');
  });

  it('pauses a flood while the browser is behind, so memory stays bounded, and resumes on ack', async () => {
    const t = await open();
    const slow = viewer();
    t.attach(slow);
    await ready(t);
    t.write('yes | head -c 20000000; echo FLOOD-$((1+1))\r');
    await until(() => t.isPaused);
    await new Promise((r) => setTimeout(r, 300));
    // Paused: what the browser has not acknowledged stays near the high-water mark.
    expect(t.pendingChars).toBeLessThan(HIGH_WATER + 128 * 1024);
    expect(slow.out().length).toBeLessThan(HIGH_WATER + 128 * 1024);
    const seenWhilePaused = slow.out().length;
    await new Promise((r) => setTimeout(r, 300));
    expect(slow.out().length).toBe(seenWhilePaused);

    // A browser that keeps up gets everything.
    let acked = 0;
    await until(() => {
      const n = slow.out().length - acked;
      acked += n;
      t.ack(n);
      return slow.out().includes('FLOOD-2');
    }, 60_000);
    expect(slow.out().length).toBeGreaterThan(20_000_000);
    expect(t.scrollback.length).toBeLessThanOrEqual(256 * 1024);
  }, 90_000);

  it("sends a key's echo after a quiet moment without waiting for a timer, and a flood in large frames", async () => {
    const t = await open();
    const frames: string[] = [];
    t.attach({ send: (d) => frames.push(d), exit: () => {}, readOnly: false });
    await ready(t);
    await new Promise((r) => setTimeout(r, 200));
    // With timers frozen, the echo comes only if nothing on its way waits for one.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      frames.length = 0;
      t.write('q');
      const end = performance.now() + 5000;
      while (!frames.join('').includes('q') && performance.now() < end) await new Promise((r) => setImmediate(r));
      expect(frames.join('')).toContain('q');
    } finally {
      vi.useRealTimers();
    }
    t.write('\x15');
    await new Promise((r) => setTimeout(r, 200));

    frames.length = 0;
    t.write('yes | head -c 4000000; echo FLOOD-$((2+2))\r');
    await until(() => (t.ack(t.pendingChars), frames.join('').includes('FLOOD-4')), 60_000);
    const chars = frames.reduce((n, f) => n + f.length, 0);
    expect(chars).toBeGreaterThan(4_000_000);
    expect(chars / frames.length).toBeGreaterThan(12 * 1024);
  }, 90_000);

  it('mirrors a terminal read-only without letting the mirror slow it down', async () => {
    const t = await open();
    const mirror = viewer({ readOnly: true });
    expect(t.attach(mirror)).toBe(t.scrollback.text());
    t.write('echo mirrored\r');
    await until(() => mirror.out().includes('mirrored'));
    expect(t.isPaused).toBe(false);
  });

  it('limits terminals per sandbox', async () => {
    await until(() => hub.forSandbox(SB2).length === 0);
    for (let i = 0; i < 6; i++) await open(SB2);
    await expect(open(SB2)).rejects.toThrow(/at most 6 terminals/);
  });
});

describe.runIf(sandboxesAvailable())('terminals across a restart of the server', () => {
  const SB3 = 'term-c';
  beforeAll(async () => {
    await rt.destroy(SB3).catch(() => {});
    await rt.create(SB3, 263, limits);
  }, 120_000);
  afterAll(async () => {
    await rt.destroy(SB3).catch(() => {});
  });

  it('a new hub adopts a running terminal: same id, its scrollback, the output of a command that ran on, its reports', async () => {
    const first = new TerminalHub(rt, () => {}, SECRET);
    const t = await first.open(SB3, 80, 24);
    const v = viewer();
    t.attach(v);
    await ready(t);
    t.write('echo before-$((1+1)); sleep 1; echo after-$((2+2))\r');
    await until(() => v.out().includes('before-2'));
    first.releaseAll(); // the server stops (or dies) here; the shell runs on

    await new Promise((r) => setTimeout(r, 1500));
    const seen: CommandEvent[] = [];
    const second = new TerminalHub(rt, (_sb, e) => seen.push(e), SECRET);
    const adopted = await second.adopt(SB3);
    expect(adopted.map((a) => a.id)).toEqual([t.id]);
    const again = viewer();
    const scrollback = second.get(t.id)!.attach(again);
    expect(scrollback).toContain('before-2');
    expect(scrollback).toContain('after-4');
    // Old reports in the scrollback are not counted again; a new command is, with the same nonce.
    expect(seen).toEqual([]);
    second.get(t.id)!.write('true && echo again-$((3+3))\r');
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ commandLine: 'true && echo again-$((3+3))', exitCode: 0 });
    expect(again.out()).toContain('again-6');

    // An ended terminal is not adopted.
    const ended = new Promise<number | null>((resolve) =>
      second.get(t.id)!.attach({ readOnly: true, send: () => {}, exit: resolve }),
    );
    second.get(t.id)!.write('exit 3\r');
    expect(await ended).toBe(3);
    second.releaseAll();
    // Its holder answers for a moment after the exit (it hands the code to each client); then it is gone.
    let adoptedAfterExit: Terminal[] = [{} as Terminal];
    for (const end = Date.now() + 5_000; adoptedAfterExit.length && Date.now() < end;) {
      const hub = new TerminalHub(rt, () => {}, SECRET);
      adoptedAfterExit = await hub.adopt(SB3);
      hub.releaseAll();
      if (adoptedAfterExit.length) await new Promise((r) => setTimeout(r, 200));
    }
    expect(adoptedAfterExit).toEqual([]);
  }, 60_000);
});

describe('ring buffer', () => {
  it('keeps the last characters only', () => {
    const r = new RingBuffer(10);
    r.push('abcdef');
    r.push('ghijkl');
    expect(r.text()).toBe('cdefghijkl');
    r.push('0123456789XYZ');
    expect(r.text()).toBe('3456789XYZ');
  });
});
