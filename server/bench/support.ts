// Shared by the benchmarks: the quick flag, sizes, statistics, clocks and the printed table.
// BENCH_QUICK=1 (what `npm test` runs): the same code paths with the smallest sizes, so no benchmark rots.
import { readFileSync } from 'node:fs';

export const QUICK = process.env.BENCH_QUICK === '1';

/** The shared data dir the benchmarks' servers and runtimes use (images, registry). */
export const SHARED_DATA_DIR = process.env.DOCKSIDE_DATA_DIR ?? '/var/lib/dockside';

/** A size: the environment's `name` if set, else `quick` under BENCH_QUICK=1, else `full`. */
export function size(name: string, full: number, quick: number): number {
  const set = process.env[name];
  const n = set === undefined || set === '' ? (QUICK ? quick : full) : Number(set);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${set}: not a number`);
  return n;
}

function sorted(xs: number[], what: string): number[] {
  if (!xs.length) throw new Error(`no ${what}: nothing was measured`);
  if (xs.some((x) => !Number.isFinite(x))) throw new Error(`a ${what} is not a number: ${xs.join(', ')}`);
  return [...xs].sort((a, b) => a - b);
}

export function median(xs: number[], what = 'measurement'): number {
  return sorted(xs, what)[Math.floor(xs.length / 2)]!;
}

export function pct(xs: number[], p: number, what = 'measurement'): number {
  return sorted(xs, what)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
}

/** Milliseconds, monotonic. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's resident memory in bytes (VmRSS of /proc/PID/status). */
export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

export type Row = [what: string, value: string, note: string];

/**
 * Prints the table: a title, then one aligned line per row. A figure that came out as NaN, Infinity or
 * undefined means a measurement failed: that is an error (the benchmark exits non-zero), not a figure.
 */
export function printTable(title: string, rows: Row[]): void {
  if (!rows.length) throw new Error(`${title}: no rows`);
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`\n${title}${QUICK ? ' [quick mode: smallest sizes, figures not comparable]' : ''}\n`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0]!)}  ${b.padStart(w[1]!)}  ${c}`);
  const bad = rows.filter((r) => /\b(NaN|undefined)\b|Infinity/.test(`${r[1]} ${r[2]}`));
  if (bad.length) throw new Error(`${title}: failed measurements: ${bad.map((r) => r[0]).join('; ')}`);
}
