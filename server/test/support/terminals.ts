// A sandbox's terminals' CPU group on the host (native/src/cgroups.c), and a script run in a real held
// terminal, for the tests that try to escape or overload it.
import { readFileSync } from 'node:fs';
import { HeldSession } from '../../src/engine/heldSession';
import type { NativeRuntime } from '../../src/engine/nativeRuntime';
import { CGROUP_V1 } from './runtime';

/**
 * A file of `dockside-terminals/<id>` (or of `dockside-terminals/` itself for id ''): on v1 in the cpu
 * hierarchy unless told another (cpuacct).
 */
export function terminalCgroupFile(id: string, file: string, v1Controller = 'cpu'): string {
  const dir = id ? `dockside-terminals/${id}` : 'dockside-terminals';
  return CGROUP_V1 ? `/sys/fs/cgroup/${v1Controller}/${dir}/${file}` : `/sys/fs/cgroup/${dir}/${file}`;
}

export const readCg = (file: string) => readFileSync(file, 'utf8').trim();

/** CPU time the terminals of sandbox `id` used so far, in seconds. */
export function terminalCpuSeconds(id: string): number {
  if (CGROUP_V1) return Number(readCg(terminalCgroupFile(id, 'cpuacct.usage', 'cpuacct'))) / 1e9;
  return Number(/^usage_usec (\d+)$/m.exec(readCg(terminalCgroupFile(id, 'cpu.stat')))![1]) / 1e6;
}

/** CPUs the terminals of sandbox `id` use, averaged over `ms`. */
export async function terminalCpus(id: string, ms: number): Promise<number> {
  const [cpu, t] = [terminalCpuSeconds(id), performance.now()];
  await new Promise((r) => setTimeout(r, ms));
  return (terminalCpuSeconds(id) - cpu) / ((performance.now() - t) / 1000);
}

/** The cgroup paths of a host process, by controller (v2: the one line under ''). */
export function cgroupsOf(pid: number | string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, controllers, p] = /^\d+:([^:]*):(.*)$/.exec(line)!;
    for (const c of controllers!.split(',')) m.set(c, p!);
  }
  return m;
}

/** The host pids in the terminals' group of sandbox `id`. */
export function terminalPids(id: string): number[] {
  return readCg(terminalCgroupFile(id, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
}

export type TerminalRun = {
  /** Sends a line to the program (it waits for one before anything: `read go`). */
  send: (line: string) => void;
  /** Resolves once the output has `text`. */
  waitFor: (text: string, ms?: number) => Promise<string>;
  output: () => string;
  /** The program's exit status. */
  exited: Promise<number | null>;
};

/**
 * Runs `script` (bash) in a new held terminal `name` of sandbox `id`, attached as the server attaches. The
 * script should start with `read go`: nothing runs before the test has attached and sent a line.
 */
export async function runInTerminal(rt: NativeRuntime, id: string, name: string, script: string): Promise<TerminalRun> {
  await rt.openSession(id, name, ['bash', '-c', script], { cols: 200, rows: 50 });
  let out = '';
  const waiters = new Set<() => void>();
  let exit!: (code: number | null) => void;
  const exited = new Promise<number | null>((r) => (exit = r));
  const held = await HeldSession.attach(rt.sessionSocket(id, name), {
    scrollback: (d) => (out += d),
    live: () => {},
    output: (d) => {
      out += d;
      for (const w of waiters) w();
    },
    exit: (code) => exit(code),
  });
  return {
    send: (line) => held.write(`${line}\r`),
    output: () => out,
    exited,
    waitFor: (text, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!out.includes(text)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(out);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no "${text}" from terminal ${name} within ${ms} ms; it printed:\n${out.slice(-2000)}`));
        }, ms);
        waiters.add(check);
        check();
      }),
  };
}
