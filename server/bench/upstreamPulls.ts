// bench:registry's pulls through DOCKSIDE_REGISTRY_UPSTREAM: a second docker-registry on this machine is
// the upstream (reached over TCP on 127.0.0.1, as a site's would be over its network), holding the
// catalogue's nginx under names the catalogue does not carry. Cold: each run pulls a name the cache has
// never seen, so every blob goes through the pull-through cache from the upstream; cached: each run pulls
// the first name again. Each pull is in a fresh sandbox. Its own data dir and registry, so nothing else
// running is disturbed. A local upstream: the figures are the cache's overhead, not an internet link's.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NativeRuntime } from '../src/engine/nativeRuntime';
import { buildLessonImages } from '../src/images/build';
import { MANIFEST_V2, RegistryClient } from '../src/images/registryClient';
import { registryAnswers } from '../src/registry/probe';
import { RegistrySupervisor } from '../src/registry/supervisor';
import { median, type Row } from './support';

const MiB = 1024 ** 2;

function fetchFrom(socketPath: string, urlPath: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: urlPath, headers: { accept: MANIFEST_V2 } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${urlPath}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

export async function upstreamPulls(opts: {
  shared: string;
  runs: number;
  diskBytes: number;
  /** The first of 8 sandbox id ranges this cycles through (one sandbox at a time). */
  range: number;
}): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ds-bench-up-'));
  const dataDir = path.join(dir, 'data');
  mkdirSync(path.join(dataDir, 'images'), { recursive: true });
  symlinkSync(path.join(opts.shared, 'images', 'base'), path.join(dataDir, 'images', 'base'));
  const upstreamSocket = path.join(dir, 'upstream.sock');
  const config = path.join(dir, 'upstream.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'upstream-storage'))} } }`,
      `http: { net: unix, addr: ${JSON.stringify(upstreamSocket)} }`,
      '',
    ].join('\n'),
  );
  const upstream = spawn('setpriv', ['--pdeathsig', 'KILL', '--', '/usr/bin/docker-registry', 'serve', config], {
    stdio: 'ignore',
  });
  let front: Server | undefined;
  let registry: RegistrySupervisor | undefined;
  const rt = new NativeRuntime(dataDir);
  try {
    for (let i = 0; i < 400 && !(await registryAnswers(upstreamSocket)); i++)
      await new Promise((r) => setTimeout(r, 25));
    front = createServer((req, res) => {
      const out = request(
        { socketPath: upstreamSocket, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    await new Promise<void>((r) => front!.listen(0, '127.0.0.1', r));
    const port = (front.address() as AddressInfo).port;
    registry = await new RegistrySupervisor(dataDir, {
      log: () => {},
      upstream: { url: `http://127.0.0.1:${port}` },
    }).start();
    await buildLessonImages({
      dataDir,
      cacheDir: path.join(opts.shared, 'images', 'lessons'),
      build: false,
      log: () => {},
    });

    // The catalogue's nginx, copied to the upstream as webapp-0 … webapp-(runs-1).
    const mirror = registry.paths.mirrorSocket;
    const manifest = await fetchFrom(mirror, '/v2/library/nginx/manifests/latest');
    const m = JSON.parse(manifest.toString()) as {
      config: { digest: string };
      layers: { digest: string; size: number }[];
    };
    const wire = m.layers.reduce((n, l) => n + l.size, 0);
    const client = new RegistryClient(upstreamSocket);
    for (const digest of [m.config.digest, ...m.layers.map((l) => l.digest)]) {
      const blob = await fetchFrom(mirror, `/v2/library/nginx/blobs/${digest}`);
      for (let i = 0; i < opts.runs; i++) await client.pushBlob(`library/webapp-${i}`, digest, blob);
    }
    for (let i = 0; i < opts.runs; i++) await client.pushManifest(`library/webapp-${i}`, 'latest', manifest.toString());

    const times = { cold: [] as number[], cached: [] as number[] };
    let n = 0;
    for (const kind of ['cold', 'cached'] as const)
      for (let i = 0; i < opts.runs; i++) {
        const id = `bench-up-${process.pid}-${kind}-${i}`;
        await rt.create(id, opts.range + (n++ % 8), {
          memoryBytes: 1024 ** 3,
          pids: 2048,
          cpus: 1,
          diskBytes: opts.diskBytes,
        });
        try {
          const name = kind === 'cold' ? `webapp-${i}` : 'webapp-0';
          const t = process.hrtime.bigint();
          const r = await rt.exec(id, ['docker', 'pull', name]);
          if (r.code !== 0) throw new Error(`docker pull ${name}: ${r.stderr.toString()}`);
          times[kind].push(Number(process.hrtime.bigint() - t) / 1e9);
        } finally {
          await rt.destroy(id);
        }
      }
    return (['cold', 'cached'] as const).map((kind) => {
      const med = median(times[kind]);
      return [
        `docker pull through the upstream, ${kind === 'cold' ? 'cold (not in the cache)' : 'cached'}, fresh sandbox (median of ${opts.runs}; min ${Math.min(...times[kind]).toFixed(2)}, max ${Math.max(...times[kind]).toFixed(2)})`,
        `${med.toFixed(2)} s`,
        `${(wire / MiB).toFixed(1)} MB compressed, ${(wire / MiB / med).toFixed(1)} MB/s; upstream on 127.0.0.1`,
      ];
    });
  } finally {
    for (const s of await rt.list().catch(() => [])) await rt.destroy(s.id).catch(() => {});
    await registry?.stop();
    front?.closeAllConnections();
    front?.close();
    upstream.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
