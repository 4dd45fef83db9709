// The server engine against real sandboxes: a learner's terminal over socket.io, reconnects, flow control,
// files, authorisation between learners, and a restart that keeps the learner's sandbox.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxView } from '@dockside/protocol';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import { busyboxTar } from '../support/images';
import { openPreview, previewFetch } from '../support/preview';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-engine-'));
const env = {
  DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
  DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
  DOCKSIDE_POOL_SIZE: '1',
  DOCKSIDE_KEEP_SANDBOXES: '1',
};

let server: RunningServer;
let ana: Learner;
let anaSocket: LearnerSocket;
let sandbox: SandboxView;
let terminal: TerminalReader;

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m![1]) * 1024;
  } catch {
    return 0; // the server is restarting
  }
}

describe.runIf(sandboxesAvailable())('server engine with real sandboxes', () => {
  beforeAll(async () => {
    server = await startServer(env);
    ana = await Learner.join(server.url);
    anaSocket = ana.socket();
    const r = await request<SandboxView>(anaSocket, 'sandbox:ensure', {});
    if (!r.ok) throw new Error(r.error.message);
    sandbox = r.value;
    const t = await request<{ terminalId: string; scrollback: string }>(anaSocket, 'terminal:open', {
      sandboxId: sandbox.id,
      cols: 100,
      rows: 30,
    });
    if (!t.ok) throw new Error(t.error.message);
    terminal = new TerminalReader(anaSocket, t.value.terminalId, t.value.scrollback);
    await terminal.firstPrompt();
  });

  afterAll(async () => {
    anaSocket?.close();
    // The last test restarted the server with sandboxes kept; now let it clean up.
    await server?.stop();
    const cleanup = await startServer({ ...env, DOCKSIDE_KEEP_SANDBOXES: '0', DOCKSIDE_POOL_SIZE: '0' });
    await cleanup.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it('gives the learner a ready sandbox and a terminal into its own Docker Engine', async () => {
    expect(sandbox.phase).toBe('ready');
    terminal.type('docker info --format "engine={{.ServerVersion}} containers={{.Containers}}"\r');
    await terminal.waitFor(/engine=\d+\.\d+\.\d+\S* containers=\d+/);
    terminal.type('hostname\r');
    await terminal.waitFor(sandbox.id);
  });

  it('shows the scrollback again after a reconnect', async () => {
    terminal.type('echo before-$((6*7))\r');
    await terminal.waitFor('before-42');
    anaSocket.close();
    anaSocket = ana.socket();
    const again = await request<{ terminalId: string; scrollback: string }>(anaSocket, 'terminal:open', {
      sandboxId: sandbox.id,
      terminalId: terminal.terminalId,
      cols: 100,
      rows: 30,
    });
    expect(again.ok && again.value.terminalId).toBe(terminal.terminalId);
    expect(again.ok && again.value.scrollback).toContain('before-42');
    terminal = new TerminalReader(anaSocket, terminal.terminalId, again.ok ? again.value.scrollback : '');
    terminal.type('echo after-$((6*7))\r');
    await terminal.waitFor('after-42');
  });

  it('streams 50 MB of output without the server growing past a bound', async () => {
    const before = rssOf(server.serverPid());
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.serverPid()))), 100);
    const start = terminal.received;
    terminal.type('yes | head -c 50000000; echo done-$((1+1))\r');
    await terminal.waitFor('done-2', 180_000);
    clearInterval(sampler);
    expect(terminal.received - start).toBeGreaterThan(50_000_000);
    // Flow control keeps at most ~256 KiB in flight per terminal; allow for GC and socket buffers.
    expect(peak - before).toBeLessThan(150 * 1024 * 1024);
    terminal.text = terminal.text.slice(-10_000);
  }, 240_000);

  it('reads and writes workspace files inside the sandbox, with conflicts and limits', async () => {
    const base = `/api/sandboxes/${sandbox.id}`;
    const put = await ana.fetch(`${base}/file?path=/workspace/Dockerfile`, {
      method: 'PUT',
      json: { content: 'FROM busybox\nCMD ["echo", "hi"]\n' },
    });
    expect(put.status).toBe(200);
    const { etag } = (await put.json()) as { etag: string };
    const read = (await (await ana.fetch(`${base}/file?path=/workspace/Dockerfile`)).json()) as {
      content: string;
      etag: string;
    };
    expect(read).toMatchObject({ content: 'FROM busybox\nCMD ["echo", "hi"]\n', etag });

    terminal.type(
      'echo "# changed in the terminal" >> /workspace/Dockerfile; ln -s /etc/passwd /workspace/pw; head -c 2000000 /dev/zero > /workspace/big; printf "\\x00\\x01" > /workspace/bin\r',
    );
    await new Promise((r) => setTimeout(r, 1000));
    const stale = await ana.fetch(`${base}/file?path=/workspace/Dockerfile`, {
      method: 'PUT',
      json: { content: 'x', etag },
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { current: { etag: string } }).current.etag).toMatch(/^[0-9a-f]{64}$/);

    expect((await ana.fetch(`${base}/file?path=/workspace/pw`)).status).toBe(403);
    expect((await ana.fetch(`${base}/file?path=/workspace/big`)).status).toBe(413);
    expect((await ana.fetch(`${base}/file?path=/workspace/bin`)).status).toBe(415);
    expect((await ana.fetch(`${base}/file?path=/etc/passwd`)).status).toBe(400);
    expect((await ana.fetch(`${base}/file?path=/workspace/../etc/passwd`)).status).toBe(400);

    const list = (await (await ana.fetch(`${base}/files?path=/workspace`)).json()) as {
      entries: { name: string; type: string }[];
    };
    expect(list.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['Dockerfile', 'pw', 'big', 'bin']));
    expect(list.entries.find((e) => e.name === 'pw')?.type).toBe('link');

    expect(
      (
        await ana.fetch(`${base}/files/rename`, {
          method: 'POST',
          json: { from: '/workspace/big', to: '/workspace/big2' },
        })
      ).status,
    ).toBe(200);
    expect((await ana.fetch(`${base}/file?path=/workspace/big2`, { method: 'DELETE' })).status).toBe(200);
    expect((await ana.fetch(`${base}/file?path=/workspace/big2`)).status).toBe(404);
  });

  it("refuses another learner everything of the first learner's sandbox", async () => {
    const ben = await Learner.join(server.url);
    const benSocket = ben.socket();
    try {
      const open = await request(benSocket, 'terminal:open', { sandboxId: sandbox.id, cols: 80, rows: 24 });
      expect(open).toEqual({ ok: false, error: { code: 'forbidden', message: 'this sandbox is not yours' } });
      const reattach = await request(benSocket, 'terminal:open', {
        sandboxId: sandbox.id,
        terminalId: terminal.terminalId,
        cols: 80,
        rows: 24,
      });
      expect(reattach.ok).toBe(false);
      const errors: string[] = [];
      benSocket.on('sandbox:error', (e) => errors.push(e.code));
      benSocket.emit('terminal:input', { terminalId: terminal.terminalId, data: 'echo pwned-$((1+2))\r' });
      await new Promise((r) => setTimeout(r, 800));
      expect(errors).toContain('forbidden');
      expect(terminal.text).not.toContain('pwned-3');

      expect((await ben.fetch(`/api/sandboxes/${sandbox.id}/files?path=/workspace`)).status).toBe(403);
      expect((await ben.fetch(`/api/sandboxes/${sandbox.id}/file?path=/workspace/Dockerfile`)).status).toBe(403);
      expect(
        (
          await ben.fetch(`/api/sandboxes/${sandbox.id}/file?path=/workspace/x`, {
            method: 'PUT',
            json: { content: 'x' },
          })
        ).status,
      ).toBe(403);
      const preview = `http://8080-${sandbox.id}.preview.localhost:${new URL(server.url).port}/`;
      expect((await previewFetch(server.url, preview, { cookie: ben.cookie })).status).toBe(403);
      expect((await previewFetch(server.url, preview)).status).toBe(403);
      expect((await ben.fetch(`/api/sandboxes/${sandbox.id}/previews/8080`, { method: 'POST' })).status).toBe(403);
    } finally {
      benSocket.close();
    }
  });

  it('previews a published port for its owner, with a link in the sandbox view', async () => {
    const imported = await new NativeRuntime(SHARED_DATA_DIR).exec(sandbox.id, ['docker', 'import', '-', 'bb'], {
      stdin: busyboxTar(),
    });
    expect(imported.code).toBe(0);
    terminal.type('docker run -d --name site -p 8080:80 bb httpd -f -p 80 -h /www && echo site-$((4+4))\r');
    await terminal.waitFor('site-8');
    const current = (await (await ana.fetch('/api/sandboxes/current')).json()) as { sandbox: SandboxView };
    const url = `http://8080-${sandbox.id}.preview.localhost:${new URL(server.url).port}/`;
    expect(current.sandbox.ports).toEqual([{ port: 8080, container: 'site', url }]);
    // A page that asks for the sandbox again (a reload) hears of its ports: in the answer, or as the
    // sandbox's state after it (the answer does not wait for the sandbox's engine).
    const again = ana.socket();
    try {
      const withPorts = new Promise<SandboxView>((resolve) =>
        again.on('sandbox:state', (s: SandboxView) => s.ports.length > 0 && resolve(s)),
      );
      const r = await request<SandboxView>(again, 'sandbox:ensure', {});
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.id).toBe(sandbox.id);
      const ports = r.value.ports.length ? r.value.ports : (await withPorts).ports;
      expect(ports).toEqual([{ port: 8080, container: 'site', url }]);
    } finally {
      again.close();
    }
    const page = await previewFetch(server.url, url, { cookie: (await openPreview(ana, sandbox.id, 8080)).cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('hello from a sandbox');
    const nothing = await previewFetch(server.url, url.replace('8080-', '9999-'), {
      cookie: (await openPreview(ana, sandbox.id, 9999)).cookie,
    });
    expect(nothing.status).toBe(502);
    expect(nothing.body).toMatch(/Nothing answers on port 9999 in your sandbox/);
  });

  /** After a restart: the learner reconnects, gets the same sandbox and re-attaches to the same terminal. */
  const comeBack = async (terminalId: string): Promise<string> => {
    server = await startServer({ ...env, PORT: new URL(server.url).port }); // same address: the learner reconnects
    anaSocket = ana.socket();
    const r = await request<SandboxView>(anaSocket, 'sandbox:ensure', {});
    expect(r.ok && r.value.id).toBe(sandbox.id);
    const t = await request<{ terminalId: string; scrollback: string }>(anaSocket, 'terminal:open', {
      sandboxId: sandbox.id,
      terminalId,
      cols: 100,
      rows: 30,
    });
    if (!t.ok) throw new Error(t.error.message);
    expect(t.value.terminalId).toBe(terminalId);
    terminal = new TerminalReader(anaSocket, terminalId, t.value.scrollback);
    return t.value.scrollback;
  };

  it('comes back after a restart (SIGTERM) on the same sandbox and the same terminal, with its scrollback', async () => {
    terminal.type('docker run -d --name keeper bb sleep 3600 && touch /workspace/kept && echo started-$((3+4))\r');
    await terminal.waitFor('started-7');
    anaSocket.close();
    await server.stop();
    expect(await comeBack(terminal.terminalId)).toContain('started-7');
    terminal.type('ls /workspace/kept && docker ps --format "{{.Names}}={{.State}}" && echo kept-$((2+3))\r');
    await terminal.waitFor('kept-5');
    expect(terminal.text).toContain('keeper=running');
  }, 240_000);

  it('loses nothing when the server is killed (kill -9) while a command prints: it finished, its output is there', async () => {
    terminal.type('for i in $(seq 1 20); do echo tick-$i; sleep 0.1; done; echo finished-$((6+6))\r');
    await terminal.waitFor('tick-3');
    anaSocket.close();
    process.kill(server.serverPid(), 'SIGKILL');
    await server.stop(); // reaps what is left of it; nothing ran its shutdown
    await new Promise((r) => setTimeout(r, 2500)); // the command runs on with nobody attached
    const scrollback = await comeBack(terminal.terminalId);
    expect(scrollback).toContain('tick-20');
    expect(scrollback).toContain('finished-12');
    terminal.type('echo answers-$((7+7))\r');
    await terminal.waitFor('answers-14');
  }, 240_000);
});
