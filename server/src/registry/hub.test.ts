// The Docker Hub stand-in in front of a fake mirror: an engine that gives up on a blob mid-way (a pull
// cancelled, a sandbox stopped) ends the hub's read of it from the mirror.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHub } from './hub';
import { ensureHubCertificate } from './hubCertificate';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-hub-'));
const mirrorSocket = path.join(dir, 'mirror.sock');
const hubSocket = path.join(dir, 'hub.sock');
let mirror: Server;
let hub: Server;
/** Resolves when the mirror's answer to a blob request ends, with whether it was sent whole. */
let blobServed: Promise<'whole' | 'cut'>;

beforeAll(async () => {
  let served: (how: 'whole' | 'cut') => void = () => {};
  blobServed = new Promise((resolve) => (served = resolve));
  // A blob of 256 MiB, sent as fast as the reader takes it.
  mirror = createHttpServer((req: IncomingMessage, res) => {
    const chunk = Buffer.alloc(1024 * 1024);
    let left = 256;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left * chunk.length });
    res.on('close', () => served(res.writableFinished ? 'whole' : 'cut'));
    const more = () => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  await new Promise<void>((resolve) => mirror.listen(mirrorSocket, resolve));
  const tls = ensureHubCertificate(path.join(dir, 'tls'), path.join(dir, 'ca.crt'));
  hub = await startHub(hubSocket, mirrorSocket, tls);
}, 60_000);

afterAll(async () => {
  hub?.closeAllConnections();
  mirror?.closeAllConnections();
  await new Promise((r) => hub?.close(r));
  await new Promise((r) => mirror?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

it('stops reading a blob from the mirror when the engine gives up on it', async () => {
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { socketPath: hubSocket, path: '/v2/library/big/blobs/sha256:0', rejectUnauthorized: false },
      (res) => {
        expect(res.statusCode).toBe(200);
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
          if (n > 4 * 1024 * 1024) {
            req.destroy();
            resolve();
          }
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
  const how = await Promise.race([blobServed, new Promise((r) => setTimeout(() => r('still sending'), 5_000))]);
  expect(how).toBe('cut');
});
