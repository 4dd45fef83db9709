// The layer analyzer against a real engine: images built in a real sandbox, read through the API the
// Layers tab uses, and the live event a build sends.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxView } from '@dockside/protocol';
import { Learner, request, TerminalReader, type LearnerSocket } from '../support/learner';
import { sandboxesAvailable, SHARED_DATA_DIR } from '../support/runtime';
import { startServer, type RunningServer } from '../support/server';

const dbDir = mkdtempSync(path.join(os.tmpdir(), 'dockside-layers-'));
let server: RunningServer;
let ana: Learner;
let socket: LearnerSocket;
let sandbox: SandboxView;
let terminal: TerminalReader;

type Image = { id: string; tags: string[]; diffIds: string[] };
type LayerFile = { path: string; size: number; layer: number; change: 'A' | 'M' | 'D' | null };

const get = async <T>(p: string): Promise<T> => {
  const res = await ana.fetch(p);
  expect(res.status, `${p}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
};
const api = (p: string) => `/api/sandboxes/${sandbox.id}${p}`;
async function put(file: string, content: string) {
  const res = await ana.fetch(api(`/file?path=${encodeURIComponent(file)}`), { method: 'PUT', json: { content } });
  expect(res.status, await res.text()).toBe(200);
}

async function shell(line: string, expectText?: string) {
  terminal.type(line + '\n');
  await terminal.prompt(180_000);
  if (expectText) await terminal.waitFor(expectText);
}

describe.runIf(sandboxesAvailable())('layer analyzer with a real engine', () => {
  beforeAll(async () => {
    server = await startServer({
      DOCKSIDE_DATA_DIR: SHARED_DATA_DIR,
      DATABASE_URL: `file:${path.join(dbDir, 'db.sqlite')}`,
      DOCKSIDE_POOL_SIZE: '0',
    });
    ana = await Learner.join(server.url);
    socket = ana.socket();
    const r = await request<SandboxView>(socket, 'sandbox:ensure', {});
    if (!r.ok) throw new Error(r.error.message);
    sandbox = r.value;
    const t = await request<{ terminalId: string; scrollback: string }>(socket, 'terminal:open', {
      sandboxId: sandbox.id,
      cols: 120,
      rows: 30,
    });
    if (!t.ok) throw new Error(t.error.message);
    terminal = new TerminalReader(socket, t.value.terminalId, t.value.scrollback);
    await terminal.firstPrompt();
    // The checks runner follows the engine while the learner looks at a step, as the lesson page does.
    socket.emit('lesson:focus', { lessonId: 'Docker_Layers', stepId: 'first-build' });

    await put(
      '/workspace/waste.Dockerfile',
      'FROM busybox\nRUN mkdir /data && head -c 2097152 /dev/zero > /data/big && echo kept > /data/keep\nRUN rm /data/big\n',
    );
    await put('/workspace/other.Dockerfile', 'FROM busybox\nRUN echo other > /other\n');
  });

  afterAll(async () => {
    socket?.close();
    await server?.stop();
  });

  it('tells the learner, live, that a build changed their engine', async () => {
    const changed = new Promise<number>((resolve) => {
      const t0 = Date.now();
      socket.once('layers:changed', (c) => {
        expect(c.sandboxId).toBe(sandbox.id);
        resolve(Date.now() - t0);
      });
    });
    // BuildKit fetches a FROM image for the build only: busybox is pulled to be an image of its own.
    await shell(
      'docker pull -q busybox && docker build -q -t waste -f /workspace/waste.Dockerfile /workspace && docker build -q -t other -f /workspace/other.Dockerfile /workspace',
      'sha256:',
    );
    await changed;
  });

  it('lists the images with their layers, and shows the layer two images share', async () => {
    const { images } = await get<{ images: Image[] }>(api('/images'));
    const waste = images.find((i) => i.tags.includes('waste:latest'))!;
    const other = images.find((i) => i.tags.includes('other:latest'))!;
    const busybox = images.find((i) => i.tags.includes('busybox:latest'))!;
    expect(waste.diffIds).toHaveLength(3);
    expect(other.diffIds).toHaveLength(2);
    expect(waste.diffIds[0]).toBe(busybox.diffIds[0]);
    expect(other.diffIds[0]).toBe(waste.diffIds[0]);
    expect(other.diffIds[1]).not.toBe(waste.diffIds[1]);

    const layers = await get<{ rows: { diffId: string | null; createdBy: string; emptyLayer: boolean }[] }>(
      api(`/images/${waste.id}/layers`),
    );
    const withFiles = layers.rows.filter((r) => !r.emptyLayer);
    expect(withFiles.map((r) => r.diffId)).toEqual(waste.diffIds);
    expect(withFiles.at(-1)!.createdBy).toContain('rm /data/big');
  });

  it("gives each layer's files like docker diff would, and the deletion with its wasted bytes", async () => {
    const { images } = await get<{ images: Image[] }>(api('/images'));
    const id = images.find((i) => i.tags.includes('waste:latest'))!.id;
    const added = await get<{ files: LayerFile[] }>(api(`/images/${id}/layers/1/files?mode=changes`));
    expect(added.files.filter((f) => f.path.startsWith('data')).map((f) => [f.path, f.change, f.size])).toEqual([
      ['data', 'A', 0],
      ['data/big', 'A', 2097152],
      ['data/keep', 'A', 5],
    ]);
    const removed = await get<{ files: LayerFile[] }>(api(`/images/${id}/layers/2/files?mode=changes`));
    expect(removed.files.map((f) => [f.path, f.change, f.size, f.layer])).toEqual([['data/big', 'D', 2097152, 1]]);

    const upto = await get<{ files: LayerFile[] }>(api(`/images/${id}/layers/2/files?mode=upto`));
    expect(upto.files.some((f) => f.path === 'data/big')).toBe(false);
    expect(upto.files.find((f) => f.path === 'data/keep')).toMatchObject({ layer: 1, change: null });
    expect(upto.files.find((f) => f.path === 'bin/sh')).toMatchObject({ layer: 0 });

    const summary = await get<{ wastedBytes: number; efficiency: number; layers: { deleted: { bytes: number } }[] }>(
      api(`/images/${id}/analysis`),
    );
    expect(summary.wastedBytes).toBe(2097152);
    expect(summary.layers[2]!.deleted.bytes).toBe(2097152);
    expect(summary.efficiency).toBeLessThan(1);

    const history = await get<{ history: { layer: number; change: string }[] }>(
      api(`/images/${id}/paths?path=${encodeURIComponent('/data/big')}`),
    );
    expect(history.history).toEqual([
      { layer: 1, change: 'A' },
      { layer: 2, change: 'D' },
    ]);
  });

  it('pairs zero-byte steps with their layers: BuildKit gives each WORKDIR one, empty when the directory was there', async () => {
    await put('/workspace/note.txt', 'hello\n');
    await put(
      '/workspace/workdir.Dockerfile',
      'FROM busybox\nWORKDIR /made\nCOPY note.txt .\nRUN echo ran > ran.txt\nWORKDIR /made\nCMD ["cat", "note.txt"]\n',
    );
    await shell('docker build -q -t workdir -f /workspace/workdir.Dockerfile /workspace', 'sha256:');
    const { images } = await get<{ images: Image[] }>(api('/images'));
    const image = images.find((i) => i.tags.includes('workdir:latest'))!;
    expect(image.diffIds).toHaveLength(5); // busybox, WORKDIR /made, COPY, RUN, WORKDIR /made again

    // The first view of a new image, before anything read its layers.
    type Rows = { rows: { diffId: string | null; createdBy: string }[] };
    const instant = await get<Rows>(api(`/images/${image.id}/layers`));
    const layerOf = (rows: Rows['rows'], text: RegExp) =>
      rows.filter((r) => text.test(r.createdBy)).map((r) => (r.diffId ? image.diffIds.indexOf(r.diffId) : null));
    expect(layerOf(instant.rows, /WORKDIR/)).toEqual([1, 4]);
    expect(layerOf(instant.rows, /COPY/)).toEqual([2]);
    expect(layerOf(instant.rows, /echo ran/)).toEqual([3]);
    expect((await get<Rows>(api(`/images/${image.id}/analysis`))).rows).toEqual(instant.rows);

    const copied = await get<{ files: LayerFile[] }>(api(`/images/${image.id}/layers/2/files?mode=changes`));
    expect(copied.files.map((f) => [f.path, f.change])).toEqual([['made/note.txt', 'A']]);
    const again = await get<{ files: LayerFile[] }>(api(`/images/${image.id}/layers/4/files?mode=changes`));
    expect(again.files).toEqual([]);
  });

  it("shows a container's thin read-write layer", async () => {
    await shell('docker run --name scratchpad waste sh -c "echo note > /data/note; rm /data/keep"');
    const c = await get<{ sizeRw: number; changes: { path: string; kind: string }[] }>(
      api('/containers/scratchpad/changes'),
    );
    expect(c.changes).toEqual(
      expect.arrayContaining([
        { path: '/data/note', kind: 'A' },
        { path: '/data/keep', kind: 'D' },
      ]),
    );
    expect(c.sizeRw).toBeGreaterThan(0);
  });

  it('refuses layers of an image that does not exist, and another learner', async () => {
    expect((await ana.fetch(api('/images/nope/layers/0/files'))).status).toBe(404);
    expect((await ana.fetch(api('/images/busybox/layers/9/files'))).status).toBe(404);
    const ben = await Learner.join(server.url);
    expect((await ben.fetch(api('/images'))).status).toBe(403);
  });
});
