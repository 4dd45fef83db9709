// One terminal, two replicas: each replica's hub attaches to the session held in the sandbox itself (no
// bytes between replicas). Against a real sandbox: the replica that opened it reports its commands; another
// attached for an instructor's mirror reports none and lets go when the mirror does; the learner's page
// moving to that other replica gets the same terminal, its scrollback, and from then on its reports, which
// the replica it left no longer sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import type { CommandEvent } from '../../src/engine/shellIntegration';
import { TerminalHub, type Terminal, type Viewer } from '../../src/engine/terminals';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';

const rt = new NativeRuntime(SHARED_DATA_DIR);
const SB = 'h2-replicas-term';
const limits = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1, diskBytes: 1024 ** 3 };
const SECRET = 'a-test-secret-of-thirty-two-characters'; // the replicas share the session secret

function replica() {
  const commands: CommandEvent[] = [];
  return { hub: new TerminalHub(rt, (_sb, e) => commands.push(e), SECRET), commands };
}

function viewer(readOnly: boolean): Viewer & { out: () => string } {
  let out = '';
  return { send: (d) => (out += d), exit: () => {}, readOnly, out: () => out };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.runIf(sandboxesAvailable())('a terminal across replicas', () => {
  const a = replica();
  const b = replica();
  let t: Terminal;
  let pageOnA: ReturnType<typeof viewer>;

  beforeAll(async () => {
    await rt.destroy(SB).catch(() => {});
    await rt.create(SB, 291, limits);
  }, 120_000);
  afterAll(async () => {
    a.hub.releaseAll();
    b.hub.releaseAll();
    await rt.destroy(SB).catch(() => {});
  });

  it("is mirrored on another replica from the sandbox's session, which reports no command twice", async () => {
    t = await a.hub.open(SB, 80, 24);
    const page = (pageOnA = viewer(false));
    t.attach(page);
    await until('the prompt', () => t.scrollback.text().includes('\x1b]633;A'));
    t.write('echo one-$((1+1))\r');
    await until('the command on A', () => a.commands.length === 1);

    // B's mirror: attached to the same session, from its scrollback on.
    const [mirrored] = await b.hub.adopt(SB, { mirrorOnly: true });
    expect(mirrored?.id).toBe(t.id);
    const mirror = viewer(true);
    expect(mirrored!.attach(mirror)).toContain('one-2');
    t.write('echo two-$((1+2))\r');
    await until('the output on the mirror', () => mirror.out().includes('two-3'));
    await until('the command on A', () => a.commands.length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.commands.map((c) => c.commandLine)).toEqual(['echo one-$((1+1))', 'echo two-$((1+2))']);
    expect(b.commands).toEqual([]);

    // Asked again while it is attached: the same terminal, not a second connection.
    expect(await b.hub.adopt(SB, { mirrorOnly: true })).toEqual([]);
    expect(b.hub.forSandbox(SB)).toEqual([mirrored]);

    // The mirror closes: B lets go of the session; the terminal runs on for A.
    mirrored!.detach(mirror);
    expect(b.hub.get(t.id)).toBeUndefined();
    t.write('echo three-$((1+3))\r');
    await until('A still served', () => page.out().includes('three-4'));
    // Told that the page focused a step elsewhere while it is still shown here: A keeps it.
    a.hub.releaseUnwatched(SB);
    expect(a.hub.get(t.id)).toBe(t);
  });

  it("gives the learner's page, reconnecting to another replica, the same terminal with its scrollback, and its reports", async () => {
    // The page leaves A (a reload through the balancer), and B tells A it is there now: A lets go.
    t.detach(pageOnA);
    a.hub.releaseUnwatched(SB);
    expect(a.hub.get(t.id)).toBeUndefined();
    a.commands.length = 0;
    const again = await b.hub.reattach(SB, t.id);
    expect(again?.id).toBe(t.id);
    const page = viewer(false);
    const scrollback = again!.attach(page);
    expect(scrollback).toContain('one-2');
    expect(scrollback).toContain('three-4');
    b.commands.length = 0;
    again!.write('echo four-$((2+2))\r');
    await until('the output on B', () => page.out().includes('four-4'));
    await until('the command reported on B', () => b.commands.some((c) => c.commandLine === 'echo four-$((2+2))'));
    expect(b.commands, JSON.stringify(b.commands)).toContainEqual(
      expect.objectContaining({ commandLine: 'echo four-$((2+2))', exitCode: 0 }),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(a.commands).toEqual([]); // reported once, where the page is

    // An id the sandbox has no session for is not found (the page gets a new terminal instead).
    expect(await b.hub.reattach(SB, 't-000000000000')).toBeUndefined();
    again!.kill();
  });
});
