// `npm run bench:restart`: terminals outlive the server. A learner's shell runs under a session holder in
// its sandbox; a restarted server adopts it. Times, from the moment the new server process is spawned (the
// old one stopped by SIGTERM, or killed by SIGKILL), until the learner's re-attached terminal answers a
// typed command; and the server's memory per idle attached terminal. Prints a table.
//   BENCH_RUNS (default 5)  restarts of each kind      BENCH_LEARNERS (default 3) × BENCH_TERMINALS (default 4)
//   BENCH_QUICK=1           1 restart of each kind, 1 learner × 2 terminals (what `npm test` runs)
//   BENCH_NEW_TERMINAL=1    for a server whose terminals die with it: time to a NEW terminal answering
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxView } from '../src/realtime/events';
import { Learner, request, TerminalReader, type LearnerSocket } from '../test/support/learner';
import { startServer, type RunningServer } from '../test/support/server';
import { median, now, printTable, QUICK, rss, SHARED_DATA_DIR as shared, size, sleep, type Row } from './support';

const RUNS = Math.max(1, size('BENCH_RUNS', 5, 1));
const LEARNERS = Math.max(1, size('BENCH_LEARNERS', 3, 1));
const TERMINALS = Math.max(1, size('BENCH_TERMINALS', 4, 2));
const NEW_TERMINAL = process.env.BENCH_NEW_TERMINAL === '1';
const SETTLE_MS = QUICK ? 2000 : 5000;
const SAMPLES = QUICK ? 3 : 7;

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-restart-'));
const env = {
  DOCKSIDE_DATA_DIR: shared,
  DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
  DOCKSIDE_POOL_SIZE: '0',
  DOCKSIDE_KEEP_SANDBOXES: '1', // the learners' sandboxes (and their session holders) outlive each server
  DOCKSIDE_SANDBOX_DISK: '1G',
};
const MiB = 1024 ** 2;

type Open = { terminalId: string; scrollback: string };

async function ensure(socket: LearnerSocket): Promise<SandboxView> {
  const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
  if (!r.ok) throw new Error(`sandbox:ensure: ${r.error.message}`);
  return r.value;
}

async function openTerminal(socket: LearnerSocket, sandboxId: string, terminalId?: string): Promise<TerminalReader> {
  const r = await request<Open>(socket, 'terminal:open', { sandboxId, cols: 100, rows: 30, terminalId });
  if (!r.ok) throw new Error(`terminal:open${terminalId ? ` ${terminalId}` : ''}: ${r.error.message}`);
  if (terminalId && r.value.terminalId !== terminalId)
    throw new Error(`terminal ${terminalId} did not survive the restart: got a new one, ${r.value.terminalId}`);
  return new TerminalReader(socket, r.value.terminalId, r.value.scrollback);
}

let nonce = 0;
/** Types an echo and waits for its answer (the evaluated sum, not the typed line). */
async function answers(terminal: TerminalReader): Promise<void> {
  const n = ++nonce;
  terminal.type(`echo back-$((${n}+1000))\r`);
  await terminal.waitFor(`back-${n + 1000}`, 60_000);
}

/** The server's RSS once it has settled: the median of a few samples a second apart. */
async function settledRss(server: RunningServer): Promise<number> {
  await sleep(SETTLE_MS);
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i) await sleep(1000);
    xs.push(rss(server.serverPid()));
  }
  return median(xs, 'RSS sample');
}

let server: RunningServer | undefined;
const sockets: LearnerSocket[] = [];
const rows: Row[] = [];
try {
  server = await startServer(env);
  const port = new URL(server.url).port;
  const learner = await Learner.join(server.url);
  let socket = learner.socket();
  const sandbox = await ensure(socket);
  let terminal = await openTerminal(socket, sandbox.id);
  await terminal.firstPrompt();
  await answers(terminal);

  // (a) and (b), alternately: stop the server, spawn a new one on the same port, re-attach, type.
  const back: Record<'SIGTERM' | 'SIGKILL', number[]> = { SIGTERM: [], SIGKILL: [] };
  const listening: number[] = []; // of which: spawn → the new server answers /healthz
  const attached: number[] = []; // and the rest: /healthz answered → the terminal answers
  for (let i = 0; i < RUNS; i++)
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      socket.close();
      if (signal === 'SIGKILL') process.kill(server.serverPid(), 'SIGKILL');
      await server.stop(); // SIGTERM and its shutdown; after a SIGKILL it only reaps what is left
      const t0 = now(); // the new server process is spawned now
      server = await startServer({ ...env, PORT: port });
      listening.push(now() - t0);
      socket = learner.socket();
      const again = await ensure(socket);
      if (again.id !== sandbox.id) throw new Error(`the learner came back to ${again.id}, not ${sandbox.id}`);
      if (NEW_TERMINAL) {
        terminal = await openTerminal(socket, sandbox.id);
        await terminal.firstPrompt(); // a new shell: the learner waits for its prompt
      } else {
        terminal = await openTerminal(socket, sandbox.id, terminal.terminalId);
      }
      await answers(terminal);
      back[signal].push(now() - t0);
      attached.push(back[signal].at(-1)! - listening.at(-1)!);
      console.error(`run ${i + 1}/${RUNS} ${signal}: ${back[signal].at(-1)!.toFixed(0)} ms`);
    }
  socket.close();
  const what = NEW_TERMINAL ? 'a new terminal' : 'the re-attached terminal';
  for (const signal of ['SIGTERM', 'SIGKILL'] as const)
    rows.push([
      `restart (${signal}) → ${what} answers (median)`,
      `${median(back[signal]).toFixed(0)} ms`,
      `${RUNS} runs: ${back[signal].map((x) => x.toFixed(0)).join(', ')} ms; from the new process's spawn`,
    ]);
  rows.push([
    '  of which: spawn → server answers /healthz (median)',
    `${median(listening).toFixed(0)} ms`,
    `all ${listening.length} restarts; tsx and the server's start, polled every 100 ms`,
  ]);
  rows.push([
    '  and then: /healthz answers → the terminal answers (median)',
    `${median(attached).toFixed(0)} ms`,
    `all ${attached.length}: reconnect, sandbox:ensure, terminal:open${NEW_TERMINAL ? ', its first prompt' : ''}, the echo`,
  ]);

  // (c) Memory per idle attached terminal: K learners' sandboxes first, then their terminals.
  const crowd: { socket: LearnerSocket; sandboxId: string }[] = [];
  for (let i = 0; i < LEARNERS; i++) {
    const s = (await Learner.join(server.url)).socket();
    sockets.push(s);
    crowd.push({ socket: s, sandboxId: (await ensure(s)).id });
  }
  const before = await settledRss(server);
  const opened: TerminalReader[] = [];
  for (const { socket: s, sandboxId } of crowd)
    for (let j = 0; j < TERMINALS; j++) {
      const t = await openTerminal(s, sandboxId);
      await t.firstPrompt();
      opened.push(t);
    }
  for (const t of opened) await answers(t); // every one of them is live
  const after = await settledRss(server);
  const count = opened.length;
  rows.push([
    `server memory per idle attached terminal`,
    `${((after - before) / count / 1024).toFixed(0)} kB`,
    `RSS ${(before / MiB).toFixed(1)} → ${(after / MiB).toFixed(1)} MB with ${LEARNERS} learners × ${TERMINALS} terminals; medians of ${SAMPLES} samples`,
  ]);
} finally {
  for (const s of sockets) s.close();
  await server?.stop();
  // A last start without keeping sandboxes ends what the runs kept.
  const cleanup = await startServer({ ...env, DOCKSIDE_KEEP_SANDBOXES: '0' });
  await cleanup.stop();
  rmSync(dbDir, { recursive: true, force: true });
}

printTable(
  `bench:restart — ${NEW_TERMINAL ? 'terminals die with the server (a new one after a restart)' : 'terminals outlive the server'} (${os.cpus().length} cores)`,
  rows,
);
process.exit(0);
