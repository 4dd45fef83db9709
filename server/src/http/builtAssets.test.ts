// The build's hashed files go out as the build compressed them, in the encoding the browser takes; nothing
// outside the build's static/ is reachable, and what the build did not compress is left to Next.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedEncoding, builtAssets } from './builtAssets';

const root = mkdtempSync(path.join(os.tmpdir(), 'dockside-assets-'));
const staticDir = path.join(root, 'static');
const script = 'console.log("hello from the build");\n'.repeat(50);

function write(rel: string, body: string, compressed = true): void {
  const file = path.join(staticDir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, body);
  if (!compressed) return;
  writeFileSync(`${file}.br`, brotliCompressSync(body));
  writeFileSync(`${file}.gz`, gzipSync(body));
}

let server: Server;
let base: string;
beforeAll(async () => {
  write('chunks/abc123.js', script);
  write('chunks/plain.js', 'uncompressed', false);
  write('media/x.css', 'body{}');
  // A link (with its compressed copies) to a file outside static/.
  for (const ext of ['', '.br', '.gz']) {
    writeFileSync(path.join(root, `secret.js${ext}`), 'outside');
    symlinkSync(path.join(root, `secret.js${ext}`), path.join(staticDir, 'chunks', `link.js${ext}`));
  }
  const handle = builtAssets(staticDir);
  server = createServer((req, res) => {
    void handle(req, res).then((done) => {
      if (done) return;
      res.statusCode = 299; // "Next's to answer"
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function get(p: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request(`${base}${p}`, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('built assets', () => {
  it('sends brotli to a browser that takes it, else gzip, else the file itself, cached for good', async () => {
    const br = await get('/_next/static/chunks/abc123.js', { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('application/javascript; charset=UTF-8');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(brotliDecompressSync(br.body).toString()).toBe(script);
    expect(br.body.length).toBeLessThan(script.length / 5);

    const gz = await get('/_next/static/chunks/abc123.js?dpl=1', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(script);

    const raw = await get('/_next/static/chunks/abc123.js', { 'accept-encoding': 'br;q=0, identity' });
    expect(raw.headers['content-encoding']).toBeUndefined();
    expect(raw.body.toString()).toBe(script);

    const css = await get('/_next/static/media/x.css', { 'accept-encoding': 'br' });
    expect(css.headers['content-type']).toBe('text/css; charset=UTF-8');
    const head = await get('/_next/static/chunks/abc123.js', { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('leaves to Next what the build did not compress, and anything that is not a build file', async () => {
    expect((await get('/_next/static/chunks/plain.js')).status).toBe(299);
    expect((await get('/_next/static/chunks/missing.js')).status).toBe(299);
    expect((await get('/_next/image?url=x')).status).toBe(299);
    expect((await get('/lessons/Docker_Intro')).status).toBe(299);
  });

  it('reaches nothing outside static/: no dot segments, no encoded ones, no links', async () => {
    for (const p of [
      '/_next/static/../secret.js',
      '/_next/static/%2e%2e/secret.js',
      '/_next/static/chunks/..%2f..%2fsecret.js',
      '/_next/static//etc/passwd',
      '/_next/static/chunks/link.js',
    ])
      expect((await get(p, { 'accept-encoding': 'br' })).status, p).toBe(299);
  });

  it('reads Accept-Encoding as browsers write it', () => {
    expect(acceptedEncoding('gzip, deflate, br')).toBe('br');
    expect(acceptedEncoding('BR;q=0.5, gzip;q=1')).toBe('br');
    expect(acceptedEncoding('gzip, br;q=0')).toBe('gzip');
    expect(acceptedEncoding('identity')).toBeNull();
    expect(acceptedEncoding(undefined)).toBeNull();
  });
});
