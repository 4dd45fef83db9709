import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LayerAnalyzer, LayerCache, pairHistory } from './analyzer';
import { engineDocker } from './engineAgent';
import { EngineExportError, EngineLimitError, MiB } from './limits';

// The engine's history API lists the newest step first.
const history = [
  { Created: 3, CreatedBy: '/bin/sh -c #(nop)  CMD ["python3" "app.py"]', Size: 0 },
  { Created: 2, CreatedBy: '/bin/sh -c #(nop) COPY file:abc in /app ', Size: 120 },
  { Created: 2, CreatedBy: '/bin/sh -c #(nop) WORKDIR /app', Size: 0 },
  { Created: 1, CreatedBy: '/bin/sh -c #(nop) ADD file:def in / ', Size: 80_000_000 },
];

describe('history pairing', () => {
  it('gives layers to the steps that made them, oldest first, and none to metadata steps', () => {
    const { rows, certain } = pairHistory(history, ['sha256:a', 'sha256:b']);
    expect(rows.map((r) => r.diffId)).toEqual(['sha256:a', null, 'sha256:b', null]);
    expect(rows[0]!.createdBy).toMatch(/ADD file:def/);
    expect(certain).toBe(true);
  });

  it('gives a layer to a zero-byte WORKDIR when the layer count says it made one', () => {
    // WORKDIR /app creating the directory: a layer with one empty directory, 0 bytes.
    const { rows, certain } = pairHistory(history, ['sha256:a', 'sha256:w', 'sha256:b']);
    expect(rows.map((r) => r.diffId)).toEqual(['sha256:a', 'sha256:w', 'sha256:b', null]);
    expect(certain).toBe(true);
  });

  it('is not certain when zero-byte steps could go either way, and then the config decides', () => {
    const twoRuns = [
      { Created: 3, CreatedBy: '/bin/sh -c mkdir /b', Size: 0 },
      { Created: 2, CreatedBy: 'RUN /bin/sh -c mkdir /a # buildkit', Size: 0 },
      { Created: 1, CreatedBy: '/bin/sh -c #(nop) ADD file:def in / ', Size: 80_000_000 },
    ];
    expect(pairHistory(twoRuns, ['sha256:a', 'sha256:x']).certain).toBe(false);
    const config = { history: [{}, { empty_layer: true }, {}] };
    const paired = pairHistory(twoRuns, ['sha256:a', 'sha256:x'], config);
    expect(paired.rows.map((r) => r.diffId)).toEqual(['sha256:a', null, 'sha256:x']);
    expect(paired.certain).toBe(true);
  });

  it('trusts empty_layer from the image config over guesses', () => {
    const config = { history: [{}, { empty_layer: true }, {}, { empty_layer: true }] };
    const zeroCopy = history.map((h) => ({ ...h, Size: 0 }));
    expect(pairHistory(zeroCopy, ['sha256:a', 'sha256:b'], config).rows.map((r) => r.diffId)).toEqual([
      'sha256:a',
      null,
      'sha256:b',
      null,
    ]);
  });

  it("pairs BuildKit's history: a zero-byte WORKDIR that made a layer, ARG/ENV/EXPOSE/CMD that made none", () => {
    // docker 26 (BuildKit) building FROM an imported image: ARG V=1, WORKDIR /app, COPY app.py ., RUN, ENV,
    // EXPOSE, CMD, as `docker history` answered, newest first.
    const buildkit = [
      { Created: 5, CreatedBy: 'CMD ["sh" "-c" "cat /v.txt"]', Size: 0, Comment: 'buildkit.dockerfile.v0' },
      { Created: 5, CreatedBy: 'EXPOSE map[80/tcp:{}]', Size: 0, Comment: 'buildkit.dockerfile.v0' },
      { Created: 5, CreatedBy: 'ENV A=b', Size: 0, Comment: 'buildkit.dockerfile.v0' },
      { Created: 5, CreatedBy: 'RUN |1 V=1 /bin/sh -c echo $V > /v.txt # buildkit', Size: 2 },
      { Created: 4, CreatedBy: 'COPY app.py . # buildkit', Size: 9, Comment: 'buildkit.dockerfile.v0' },
      { Created: 4, CreatedBy: 'WORKDIR /app', Size: 0, Comment: 'buildkit.dockerfile.v0' },
      { Created: 4, CreatedBy: 'ARG V=1', Size: 0, Comment: 'buildkit.dockerfile.v0' },
      { Created: 3, CreatedBy: '', Size: 1_980_000, Comment: 'Imported from -' },
    ];
    const layers = ['sha256:base', 'sha256:workdir', 'sha256:copy', 'sha256:run'];
    const expected = ['sha256:base', null, 'sha256:workdir', 'sha256:copy', 'sha256:run', null, null, null];
    const guessed = pairHistory(buildkit, layers);
    expect(guessed.rows.map((r) => r.diffId)).toEqual(expected);
    expect(guessed.certain).toBe(true);
    expect(guessed.rows[3]).toMatchObject({ createdBy: 'COPY app.py . # buildkit', comment: 'buildkit.dockerfile.v0' });
    // The image config's empty_layer flags say the same.
    const config = { history: expected.map((d) => (d ? {} : { empty_layer: true })) };
    expect(pairHistory(buildkit, layers, config).rows.map((r) => r.diffId)).toEqual(expected);
  });

  it('shows "(missing)" when history and layers disagree', () => {
    const paired = pairHistory(history, ['sha256:a']);
    expect(paired.rows.map((r) => r.diffId)).toEqual(['sha256:a', null, '(missing)', null]);
    expect(paired.certain).toBe(false);
  });
});

describe('layer cache', () => {
  it('keeps layer indexes by diffID and image configs by image id across instances', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-layers-'));
    try {
      const id = `sha256:${'ab'.repeat(32)}`;
      new LayerCache(dir).put(id, [{ path: 'etc', type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0 }]);
      expect(new LayerCache(dir).get(id)?.[0]?.path).toBe('etc');
      expect(new LayerCache(dir).has(`sha256:${'cd'.repeat(32)}`)).toBe(false);
      expect(() => new LayerCache(dir).put('../../etc/x', [])).toThrow(/not a sha256 digest/);
      const image = `sha256:${'ef'.repeat(32)}`;
      expect(new LayerCache(dir).config(image)).toBeUndefined();
      new LayerCache(dir).putConfig(image, { history: [{ empty_layer: true }], rootfs: { diff_ids: [] } });
      expect(new LayerCache(dir).config(image)?.history?.[0]?.empty_layer).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A fake learner engine: an HTTP server on a unix socket, as root in a sandbox could put in place of
// dockerd. It answers the image JSON, history and export; `routes` replaces any of them.
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tarOf(files: { name: string; data: Buffer | string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name }, f.data);
  pack.finalize();
  const out: Buffer[] = [];
  for await (const chunk of pack) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

/** A ustar header of a member claiming `size` bytes, for exports that never end. */
function header(name: string, size: number): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0);
  b.write('0000644\0', 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  b[124] = 0x80; // base-256 size
  for (let i = 135, v = size; i > 124; i--, v = Math.floor(v / 256)) b[i] = v % 256;
  b.write('00000000000\0', 136);
  b.write('0', 156);
  b.write('ustar\u000000', 257);
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return b;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-engine-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function fakeEngine(image: { id: string; diffIds: string[] }, routes: Record<string, Handler>) {
  const socketPath = path.join(tempDir(), 'docker.sock');
  const json = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const defaults: Record<string, Handler> = {
    json: (_req, res) =>
      json(res, { Id: image.id, RepoTags: ['evil:latest'], Size: 1, Created: '', RootFS: { Layers: image.diffIds } }),
    history: (_req, res) =>
      json(
        res,
        image.diffIds.map((_, i) => ({ Created: 1, CreatedBy: `/bin/sh -c #(nop) ADD file:${i} in /`, Size: 100 })),
      ),
  };
  const seen: string[] = [];
  const closed: string[] = [];
  const server: Server = createServer((req, res) => {
    const what = /\/images\/.+\/(\w+)$/.exec(req.url ?? '')?.[1] ?? '';
    seen.push(what);
    // The engine's view: the client hung up before the answer was complete.
    res.on('close', () => !res.writableFinished && closed.push(what));
    (routes[what] ?? defaults[what] ?? ((_q, r) => r.writeHead(404).end()))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { socketPath, seen, closed };
}

/** Streams what `chunks` yields, respecting backpressure, until the client goes away. */
function streamTo(res: ServerResponse, chunks: () => Iterable<Buffer> | AsyncIterable<Buffer>) {
  res.writeHead(200, { 'content-type': 'application/x-tar' });
  Readable.from(chunks(), { objectMode: false })
    .on('error', () => undefined)
    .pipe(res);
}

function* endlessLayer(): Generator<Buffer> {
  yield header('aaa/layer.tar', 2 ** 40);
  for (let i = 0; ; i++) yield Buffer.concat(Array.from({ length: 64 }, (_, j) => header(`f/${i}/${j}`, 0)));
}

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  return ok();
};

describe('layer analyzer, against a fake learner engine on a unix socket', () => {
  const image = { id: sha('config'), diffIds: [sha('layer')] };

  it('an engine that sends an endless export: full() stops at the entry limit, closes the connection, caches nothing', async () => {
    const engine = await fakeEngine(image, { get: (_req, res) => streamTo(res, endlessLayer) });
    const dir = tempDir();
    const analyzer = new LayerAnalyzer(new LayerCache(dir), { entries: 20_000 });
    const err = await analyzer.full(new Docker({ socketPath: engine.socketPath }), 'evil').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineLimitError);
    expect((err as EngineLimitError).limit).toBe('entries');
    expect((err as Error).message).toMatch(/more than 20,000 files/);
    expect(await until(() => engine.closed.includes('get'))).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an engine that sends an endless export: files() stops at the byte limit, closes the connection, caches nothing', async () => {
    const engine = await fakeEngine(image, {
      get: (_req, res) =>
        streamTo(res, function* () {
          yield header('aaa/layer.tar', 2 ** 40);
          for (;;) yield Buffer.alloc(64 * 1024);
        }),
    });
    const dir = tempDir();
    const analyzer = new LayerAnalyzer(new LayerCache(dir), { bytes: 16 * MiB });
    const docker = new Docker({ socketPath: engine.socketPath });
    const err = await analyzer.files(docker, 'evil', 0, 'upto').catch((e: unknown) => e);
    expect((err as EngineLimitError).limit).toBe('bytes');
    expect(await until(() => engine.closed.includes('get'))).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an engine that never begins to answer the export is given up at the idle limit, its connection closed', async () => {
    const engine = await fakeEngine(image, { get: () => undefined });
    const analyzer = new LayerAnalyzer(new LayerCache(tempDir()), { idleMs: 200 });
    const err = await analyzer.full(new Docker({ socketPath: engine.socketPath }), 'evil').catch((e: unknown) => e);
    expect((err as EngineLimitError).limit).toBe('idle');
    expect((err as Error).message).toMatch(/did not begin to send the image export within 200 ms/);
    expect(await until(() => engine.closed.includes('get'))).toBe(true);
  });

  it('an engine whose layers are already cached but who sends an endless export of other layers caches none of them', async () => {
    // The first layers of the export are whole and hashed; the read still failed, so none is kept.
    const good = await tarOf([{ name: 'etc/hosts', data: 'x' }]);
    const engine = await fakeEngine(
      { id: image.id, diffIds: [sha(good)] },
      {
        get: (_req, res) =>
          streamTo(res, function* () {
            yield header('good/layer.tar', good.length);
            yield good;
            yield* endlessLayer();
          }),
      },
    );
    const dir = tempDir();
    const analyzer = new LayerAnalyzer(new LayerCache(dir), { entries: 5000 });
    const err = await analyzer.full(new Docker({ socketPath: engine.socketPath }), 'evil').catch((e: unknown) => e);
    expect((err as EngineLimitError).limit).toBe('entries');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reads an honest export through the socket and caches its layer and, as its digest proves it, its config', async () => {
    const layer = await tarOf([{ name: 'etc/hosts', data: '127.0.0.1 localhost\n' }]);
    const config = JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha(layer)] }, history: [{}] });
    const id = sha(config);
    const save = await tarOf([
      { name: 'aaa/layer.tar', data: layer },
      { name: `${id.slice(7)}.json`, data: config },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${id.slice(7)}.json`, Layers: ['aaa/layer.tar'] }]) },
    ]);
    const engine = await fakeEngine({ id, diffIds: [sha(layer)] }, { get: (_req, res) => res.end(save) });
    const dir = tempDir();
    const cache = new LayerCache(dir);
    const view = await new LayerAnalyzer(cache).full(new Docker({ socketPath: engine.socketPath }), 'honest');
    expect(view.layers[0]?.added.count).toBe(1);
    expect(cache.get(sha(layer))?.map((e) => e.path)).toEqual(['etc/hosts']);
    expect(cache.config(id)?.rootfs?.diff_ids).toEqual([sha(layer)]);
  });

  it('an engine that sends a config claiming to be another image gets it used but not cached for others', async () => {
    const layer = await tarOf([{ name: 'bin/sh', data: 'x' }]);
    // Its image id is a well-known image's; the config is its own, with made-up steps.
    const config = JSON.stringify({ rootfs: { diff_ids: [sha(layer)] }, history: [{}, { empty_layer: true }] });
    const save = await tarOf([
      { name: 'aaa/layer.tar', data: layer },
      { name: 'fake.json', data: config },
    ]);
    const engine = await fakeEngine(
      { id: image.id, diffIds: [sha(layer)] },
      {
        history: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          // Two zero-byte RUNs and one layer: the history alone cannot say which step made it.
          const run = { Created: 1, CreatedBy: '/bin/sh -c true', Size: 0 };
          res.end(JSON.stringify([run, run]));
        },
        get: (_req, res) => res.end(save),
      },
    );
    const cache = new LayerCache(tempDir());
    const view = await new LayerAnalyzer(cache).instant(new Docker({ socketPath: engine.socketPath }), 'evil');
    expect(view.rows.map((r) => r.diffId)).toEqual([sha(layer), null]);
    expect(cache.config(image.id)).toBeUndefined();
    expect(cache.get(sha(layer))).toBeDefined();
  });

  it('answers the same image to two callers with one read of the export', async () => {
    const layer = await tarOf([{ name: 'a', data: 'x' }]);
    const save = await tarOf([{ name: 'aaa/layer.tar', data: layer }]);
    const engine = await fakeEngine(
      { id: image.id, diffIds: [sha(layer)] },
      { get: (_req, res) => setTimeout(() => res.end(save), 50) },
    );
    const analyzer = new LayerAnalyzer(new LayerCache(tempDir()));
    const docker = new Docker({ socketPath: engine.socketPath });
    await Promise.all([analyzer.full(docker, 'x'), analyzer.files(docker, 'x', 0, 'changes')]);
    expect(engine.seen.filter((s) => s === 'get')).toHaveLength(1);
  });

  it('stops reading an export, its connection closed, when every request that wanted it has gone', async () => {
    const engine = await fakeEngine(image, { get: (_req, res) => streamTo(res, endlessLayer) });
    const dir = tempDir();
    const analyzer = new LayerAnalyzer(new LayerCache(dir));
    const docker = new Docker({ socketPath: engine.socketPath });
    const [a, b] = [new AbortController(), new AbortController()];
    const asked = [analyzer.full(docker, 'x', a.signal), analyzer.files(docker, 'x', 0, 'upto', b.signal)].map((p) =>
      p.catch((e: unknown) => e),
    );
    expect(await until(() => engine.seen.includes('get'))).toBe(true);
    a.abort();
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.closed).not.toContain('get'); // one still waits
    b.abort();
    expect(await until(() => engine.closed.includes('get'))).toBe(true);
    for (const err of await Promise.all(asked)) expect((err as Error).message).toMatch(/went away/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an engine that goes away before it answers the export sent no export: an EngineExportError', async () => {
    const engine = await fakeEngine(image, { get: (req) => req.socket.destroy() });
    const analyzer = new LayerAnalyzer(new LayerCache(tempDir()));
    const err = await analyzer.full(new Docker({ socketPath: engine.socketPath }), 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineExportError);
    expect((err as Error).message).toBe('the image export from your engine could not be read: socket hang up');
  });

  it('does not begin a queued export when the request that wanted it has gone', async () => {
    const layer = await tarOf([{ name: 'a', data: 'x' }]);
    const save = await tarOf([{ name: 'aaa/layer.tar', data: layer }]);
    let release = () => {};
    // Two images, each with a layer of its own: 'second' waits for the export of 'first'.
    const engine = await fakeEngine(image, {
      json: (req, res) => {
        const second = req.url!.includes('second');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            Id: second ? sha('second') : image.id,
            RepoTags: [],
            Size: 1,
            Created: '',
            RootFS: { Layers: [second ? sha('other layer') : sha(layer)] },
          }),
        );
      },
      get: (_req, res) => void (release = () => res.end(save)),
    });
    const analyzer = new LayerAnalyzer(new LayerCache(tempDir()));
    const docker = new Docker({ socketPath: engine.socketPath });
    const first = analyzer.full(docker, 'first');
    expect(await until(() => engine.seen.includes('get'))).toBe(true);
    const left = new AbortController();
    const second = analyzer.full(docker, 'second', left.signal).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50)); // queued behind the first
    left.abort();
    release();
    await first;
    expect(((await second) as Error).message).toMatch(/went away/);
    expect(engine.seen.filter((s) => s === 'get')).toHaveLength(1);
  });
});

describe('engine answer agent, against a fake learner engine', () => {
  const image = { id: sha('config'), diffIds: [sha('layer')] };

  it('an engine that answers the image JSON endlessly is cut off at the answer limit', async () => {
    const engine = await fakeEngine(image, {
      json: (_req, res) =>
        streamTo(res, function* () {
          yield Buffer.from('{"Id":"');
          for (;;) yield Buffer.alloc(64 * 1024, 'a');
        }),
    });
    const docker = engineDocker(engine.socketPath, { bytes: MiB });
    const err = await docker
      .getImage('evil')
      .inspect()
      .catch((e: unknown) => e);
    expect((err as EngineLimitError).limit).toBe('answer');
    expect((err as Error).message).toBe(
      "your engine's answer to GET /images/evil/json is larger than 1 MiB; Dockside stopped reading it",
    );
    expect(await until(() => engine.closed.includes('json'))).toBe(true);
  });

  it('an engine that answers endlessly for an image with a 200-character name is cut off too', async () => {
    const engine = await fakeEngine(image, {
      json: (_req, res) =>
        streamTo(res, function* () {
          for (;;) yield Buffer.alloc(64 * 1024, ' ');
        }),
    });
    const name = `${'r/'.repeat(99)}x:1`;
    const err = await engineDocker(engine.socketPath, { bytes: MiB })
      .getImage(name)
      .inspect()
      .catch((e: unknown) => e);
    expect((err as EngineLimitError).limit).toBe('answer');
    expect((err as Error).message).toMatch(/^your engine's answer to GET \/images\/r\/r\/.*…/);
  });

  it('an engine that never finishes the history is cut off at the answer time limit', async () => {
    const engine = await fakeEngine(image, { history: (_req, res) => res.writeHead(200).write('[') });
    const docker = engineDocker(engine.socketPath, { timeMs: 200 });
    const err = await docker
      .getImage('evil')
      .history()
      .catch((e: unknown) => e);
    expect((err as EngineLimitError).limit).toBe('time');
    expect((err as Error).message).toMatch(/took longer than 200 ms to answer GET \/images\/evil\/history/);
  });

  it('an engine that answers the export with an endless error is cut off, not read into one string', async () => {
    const engine = await fakeEngine(image, {
      get: (_req, res) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        Readable.from(
          (function* () {
            for (;;) yield Buffer.alloc(64 * 1024, 'e');
          })(),
        )
          .on('error', () => undefined)
          .pipe(res);
      },
    });
    const docker = engineDocker(engine.socketPath, { bytes: MiB });
    const err = await docker
      .getImage('evil')
      .get()
      .catch((e: unknown) => e);
    expect((err as EngineLimitError).limit).toBe('answer');
    expect((err as Error).message).toMatch(/answer to GET \/images\/evil\/get is larger than 1 MiB/);
    expect(await until(() => engine.closed.includes('get'))).toBe(true);
  });

  it('an engine that redirects is not followed anywhere', async () => {
    let followed = 0;
    const elsewhere = createServer((_req, res) => {
      followed++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => elsewhere.close(() => resolve())));
    const port = (elsewhere.address() as { port: number }).port;
    const engine = await fakeEngine(image, {
      json: (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${port}/latest/meta-data` }).end(),
      history: (_req, res) => res.writeHead(302, { location: 'ftp://127.0.0.1/' }).end(), // once a crash
    });
    const docker = engineDocker(engine.socketPath);
    await expect(docker.getImage('evil').inspect()).rejects.toThrow(/HTTP code 302/);
    await expect(docker.getImage('evil').history()).rejects.toThrow(/HTTP code 302/);
    await new Promise((r) => setTimeout(r, 100));
    expect(followed).toBe(0);
  });

  it('lets an honest streaming answer through untouched', async () => {
    const save = await tarOf([{ name: 'manifest.json', data: '[]' }]);
    const engine = await fakeEngine(image, { get: (_req, res) => res.end(save) });
    const docker = engineDocker(engine.socketPath, { bytes: 16 });
    const stream = (await docker.getImage('x').get()) as unknown as Readable;
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(save)).toBe(true);
  });
});
