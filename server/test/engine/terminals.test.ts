// The terminal hub with a real pty and a real bash, run on the host instead of in a sandbox.
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from './runtime';
import type { CommandEvent } from './shellIntegration';
import { SHELL_RC_PATH } from './shellIntegration';
import { HIGH_WATER, RingBuffer, TerminalHub, type Terminal, type Viewer } from './terminals';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-terminals-'));
const rcFile = path.join(dir, 'bashrc');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hostRuntime: Runtime = {
  create: async () => {},
  stop: async () => {},
  destroy: async () => {},
  inspect: async () => {
    throw new Error('not used');
  },
  list: async () => [],
  exec: async () => ({ code: 0, stdout: Buffer.alloc(0), stderr: '' }),
  file: async (_id, op, _args, opts) => {
    if (op === 'write') writeFileSync(rcFile, String(opts?.stdin ?? ''));
    return { code: 0, stdout: Buffer.alloc(0), stderr: '' };
  },
  ptyCommand: (_id, argv, env = {}) => ({
    file: 'env',
    args: [...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv.map((a) => (a === SHELL_RC_PATH ? rcFile : a))],
  }),
  connect: async () => new PassThrough(),
  dockerSocket: () => '',
};

const commands: { sandboxId: string; e: CommandEvent }[] = [];
const hub = new TerminalHub(hostRuntime, (sandboxId, e) => commands.push({ sandboxId, e }));
afterEach(() => hub.closeAll());

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

/** Descriptors of this process open on a pty master, and whether each is close-on-exec. */
function ptyMasters(): { fd: string; cloexec: boolean }[] {
  return readdirSync('/proc/self/fd')
    .filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === '/dev/ptmx';
      } catch {
        return false;
      }
    })
    .map((fd) => {
      const flags = parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
      return { fd, cloexec: (flags & 0o2000000) !== 0 };
    });
}

describe('terminals', () => {
  it("opens every terminal's master close-on-exec, so no later child (another terminal) inherits it", async () => {
    await hub.open('sb-1', 80, 24);
    await hub.open('sb-2', 80, 24);
    const masters = ptyMasters();
    expect(masters.length).toBeGreaterThanOrEqual(2);
    expect(masters.filter((m) => !m.cloexec)).toEqual([]);
  });

  it('reports each command and its exit status through shell integration', async () => {
    const t = await hub.open('sb-1', 80, 24);
    const v = viewer();
    t.attach(v);
    await ready(t);
    commands.length = 0;
    t.write('echo hello\r');
    t.write('false\r');
    t.write('echo hello\r');
    await until(() => commands.length === 3);
    expect(commands.map((c) => c.e)).toEqual([
      { commandLine: 'echo hello', exitCode: 0 },
      { commandLine: 'false', exitCode: 1 },
      { commandLine: 'echo hello', exitCode: 0 },
    ]);
    expect(commands.every((c) => c.sandboxId === 'sb-1')).toBe(true);
    expect(v.out()).toContain('hello');
  });

  it('does not count a report a program prints without the nonce (printf of the OSC 633 sequence)', async () => {
    const t = await hub.open('sb-1', 80, 24);
    const v = viewer();
    t.attach(v);
    await ready(t);
    commands.length = 0;
    const fake = path.join(dir, 'fake-report');
    const hexed = Buffer.from('docker build -t app .').toString('hex');
    // The old format, ours without the nonce, and ours with a made-up one, from a file and from printf.
    writeFileSync(
      fake,
      `\x1b]633;E;docker build -t app .\x07\x1b]633;D;0\x07` +
        `\x1b]633;E;${hexed}\x07\x1b]633;D;0\x07` +
        `\x1b]633;E;${hexed};${'0'.repeat(32)}\x07\x1b]633;D;0;${'0'.repeat(32)}\x07`,
    );
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
    const t = await hub.open('sb-1', 80, 24);
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
    // Read from outside, with the shell idle at its prompt: its environment, and no descriptor 3 left.
    const pid = Number(await shown('$$'));
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain('DOCKSIDE_NONCE');
    expect(readdirSync(`/proc/${pid}/fd`)).not.toContain('3');
    expect(await shown("$(bash -c 'echo ${__dockside_nonce}')")).toBe('');
    // What remains: the shell's own variable (not exported), which the learner can of course print.
    expect(await shown('${#__dockside_nonce}')).toBe('32');
  });

  it('keeps running without a browser and gives the scrollback back on re-attach', async () => {
    const t = await hub.open('sb-1', 80, 24);
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
    const t = await hub.open('sb-1', 80, 24);
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

  it('mirrors a terminal read-only without letting the mirror slow it down', async () => {
    const t = await hub.open('sb-1', 80, 24);
    const mirror = viewer({ readOnly: true });
    expect(t.attach(mirror)).toBe(t.scrollback.text());
    t.write('echo mirrored\r');
    await until(() => mirror.out().includes('mirrored'));
    expect(t.isPaused).toBe(false);
  });

  it('limits terminals per sandbox', async () => {
    for (let i = 0; i < 6; i++) await hub.open('sb-2', 80, 24);
    await expect(hub.open('sb-2', 80, 24)).rejects.toThrow(/at most 6 terminals/);
  });
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
