// Streams that close early, through the real server, as a learner's ordinary use makes them: a port
// preview whose server keeps the connection open after its answer and closes it later, a download the
// browser cancels, a learner's server that dies mid-answer, a Layers request the browser gives up on and
// an engine that dies in the middle of an image export. Each ends that request alone: the server stays
// up, logs no uncaught exception, and keeps nothing running (a `connect` process, an image export) for a
// browser that left.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeRuntime } from '../../src/engine/nativeRuntime';
import type { SandboxView } from '@dockside/protocol';
import { busyboxTar } from '../support/images';
import { Learner, request, type LearnerSocket } from '../support/learner';
import { openPreview, previewFetch } from '../support/preview';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

// A server that keeps the connection open after its answer, as keep-alive servers do (nginx, Node,
// Flask…), and closes it a second later.
const KEEP_ALIVE = `#!/bin/sh
read line
printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\nConnection: keep-alive\\r\\n\\r\\nhello'
sleep 1
`;
const BIG = 100_000_000;

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-early-close-'));
const rt = new NativeRuntime(SHARED_DATA_DIR);
let server: RunningServer;
let ana: Learner;
let socket: LearnerSocket;
let sandbox: SandboxView;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sh(line: string): Promise<string> {
  const r = await rt.exec(sandbox.id, ['sh', '-c', line]);
  expect(r.code, `${line}: ${r.stderr.toString()}`).toBe(0);
  return r.stdout.toString();
}

/** The runtime's `connect` processes into this sandbox's port: one per preview request in flight. */
function connects(port: number): number {
  try {
    return execFileSync('pgrep', ['-f', `dockside-sandbox connect ${sandbox.id} ${port}$`])
      .toString()
      .trim()
      .split('\n').length;
  } catch {
    return 0; // pgrep found none
  }
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`still not so after ${ms} ms: ${what}`);
    await sleep(100);
  }
}

/** The server is still up and answering, and nothing escaped a request's handling. */
async function stillServing(): Promise<void> {
  expect(server.child.exitCode).toBeNull();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  expect(server.output()).not.toMatch(/uncaughtException|unhandledRejection|Premature close/);
}

const previewHost = (port: number) => `${port}-${sandbox.id}.preview.localhost:${new URL(server.url).port}`;

/** A download through the preview that the browser cancels after `after` bytes; what it had received. */
function cancelledDownload(port: number, cookie: string, urlPath: string, after: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname: '127.0.0.1',
        port: Number(new URL(server.url).port),
        path: urlPath,
        headers: { host: previewHost(port), cookie },
      },
      (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
          if (n >= after) {
            req.destroy();
            resolve(n);
          }
        });
        res.on('end', () => reject(new Error(`the whole answer arrived (${n} bytes, status ${res.statusCode})`)));
      },
    );
    req.on('error', () => {});
    req.end();
  });
}

describe.runIf(sandboxesAvailable())('streams that close early', () => {
  beforeAll(async () => {
    server = await startServer({ DOCKSIDE_DATA_DIR: SHARED_DATA_DIR, DATABASE_URL: `file:${dbDir}/db.sqlite` });
    ana = await Learner.join(server.url);
    socket = ana.socket();
    const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
    if (!r.ok) throw new Error(r.error.message);
    sandbox = r.value;
    expect((await rt.exec(sandbox.id, ['docker', 'import', '-', 'bb'], { stdin: busyboxTar() })).code).toBe(0);
    await ana.fetch(`/api/sandboxes/${sandbox.id}/files`, {
      method: 'POST',
      json: { path: '/workspace/ka', type: 'dir' },
    });
    const put = await ana.fetch(`/api/sandboxes/${sandbox.id}/file?path=${encodeURIComponent('/workspace/ka/ka.sh')}`, {
      method: 'PUT',
      json: { content: KEEP_ALIVE },
    });
    expect(put.status, await put.text()).toBe(200);
    await sh(
      `docker run -d --name site -p 8080:80 bb sh -c 'head -c ${BIG} /dev/zero > /www/big && exec httpd -f -p 80 -h /www' && ` +
        'chmod +x /workspace/ka/ka.sh && docker run -d --name ka -p 8081:80 -v /workspace/ka:/ka bb nc -ll -p 80 -e /ka/ka.sh',
    );
    // httpd starts once the big file is written.
    const { cookie } = await openPreview(ana, sandbox.id, 8080);
    for (let i = 0; i < 100; i++) {
      if ((await previewFetch(server.url, `http://${previewHost(8080)}/`, { cookie })).status === 200) break;
      await sleep(200);
    }
  }, 240_000);

  afterAll(async () => {
    socket?.close();
    await server?.stop();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it('a preview whose server closes a kept-alive connection after its answer', async () => {
    const { cookie } = await openPreview(ana, sandbox.id, 8081);
    for (let i = 0; i < 3; i++) {
      const page = await previewFetch(server.url, `http://${previewHost(8081)}/`, {
        cookie,
        headers: { connection: 'keep-alive' },
      });
      expect(page.status).toBe(200);
      expect(page.body).toBe('hello');
      // The answer is in: nothing holds the learner's server any longer.
      await until('no connect process is left', () => connects(8081) === 0, 3_000);
    }
    await sleep(1500); // past the learner's server closing its end
    await stillServing();
  });

  it('a preview download the browser cancels', async () => {
    const { cookie } = await openPreview(ana, sandbox.id, 8080);
    for (let i = 0; i < 3; i++) {
      expect(await cancelledDownload(8080, cookie, '/big', 1_000_000)).toBeLessThan(BIG);
      await until('the cancelled download ends its connect process', () => connects(8080) === 0);
    }
    const page = await previewFetch(server.url, `http://${previewHost(8080)}/`, { cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('hello from a sandbox');
    await stillServing();
  });

  it('a preview whose server dies in the middle of its answer ends the browser’s download too', async () => {
    const { cookie } = await openPreview(ana, sandbox.id, 8080);
    const got = await new Promise<{ bytes: number; how: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname: '127.0.0.1',
          port: Number(new URL(server.url).port),
          path: '/big',
          headers: { host: previewHost(8080), cookie },
        },
        (res) => {
          let bytes = 0;
          let killed = false;
          res.on('data', (d: Buffer) => {
            bytes += d.length;
            if (killed) return;
            killed = true;
            res.pause();
            void sh('docker kill site').then(() => setTimeout(() => res.resume(), 500), reject);
          });
          res.on('end', () => resolve({ bytes, how: 'end' }));
          res.on('error', () => resolve({ bytes, how: 'error' }));
          res.on('close', () => resolve({ bytes, how: 'close' }));
        },
      );
      req.on('error', reject);
      req.end();
      setTimeout(() => reject(new Error('the download neither ended nor failed within 30 s')), 30_000);
    });
    expect(got.bytes).toBeLessThan(BIG);
    await until('no connect process is left', () => connects(8080) === 0);
    await stillServing();
  });

  // The Layers view reads layers from the engine's layer store and exports the image only when the store
  // cannot be read: a tar-split behind a symlink is refused by the store's reader (it follows no link)
  // while dockerd's own export still follows it, so this layer can only come through the export.
  const exportOnly = (diffId: string) =>
    sh(
      `d=$(dirname "$(grep -l -F -x '${diffId}' /var/lib/docker/image/overlay2/layerdb/sha256/*/diff)") && mv "$d/tar-split.json.gz" "$d/tar-split.orig.json.gz" && ln -s tar-split.orig.json.gz "$d/tar-split.json.gz"`,
    );

  it('a Layers request the browser gives up on stops its export; an engine that dies in the middle of one', async () => {
    const build = (image: string) =>
      sh(
        `docker run --name ${image}-c bb sh -c 'head -c 300000000 /dev/zero > /big' && docker commit ${image}-c ${image} && docker rm ${image}-c`,
      );
    await sh('docker rm -f site ka');
    await build('bigimg');
    const images = (await (await ana.fetch(`/api/sandboxes/${sandbox.id}/images`)).json()) as {
      images: { tags: string[]; diffIds: string[] }[];
    };
    const top = images.images.find((i) => i.tags.includes('bigimg:latest'))!.diffIds.at(-1)!;
    await exportOnly(top);
    const cached = path.join(SHARED_DATA_DIR, 'server', 'layer-cache', `${top.slice('sha256:'.length)}.json.gz`);
    const analysis = `/api/sandboxes/${sandbox.id}/images/bigimg/analysis`;

    const given = new AbortController();
    const first = ana.fetch(analysis, { signal: given.signal }).then(
      (r) => r.status,
      (e: Error) => e.name,
    );
    await sleep(300);
    given.abort();
    expect(await first).toBe('AbortError');
    const waited = 10_000;
    await sleep(waited);
    // Nobody waited for it any longer: the export stopped, so its layer was never indexed.
    expect(existsSync(cached)).toBe(false);
    // Whereas read through, it takes well under that wait, and its layer is cached.
    const t0 = Date.now();
    expect((await ana.fetch(analysis)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(waited);
    expect(existsSync(cached)).toBe(true);

    // An image whose layer is not cached yet: its export is read, and the engine dies in the middle of it.
    await sh('docker rmi bigimg');
    await build('bigimg2');
    const images2 = (await (await ana.fetch(`/api/sandboxes/${sandbox.id}/images`)).json()) as typeof images;
    await exportOnly(images2.images.find((i) => i.tags.includes('bigimg2:latest'))!.diffIds.at(-1)!);
    const second = ana.fetch(`/api/sandboxes/${sandbox.id}/images/bigimg2/analysis`);
    await sleep(300);
    await sh('kill -9 $(pidof dockerd)');
    const answer = await second;
    expect([200, 502], await answer.clone().text()).toContain(answer.status);
    await stillServing();
  }, 300_000);
});
