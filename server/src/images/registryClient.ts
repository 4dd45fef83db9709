// Pushes images to the local registry over its unix socket with the registry HTTP API v2:
// blobs first (skipped when present), then the manifest under each tag.
import { createReadStream, statSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';

export const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

type Reply = { status: number; headers: IncomingMessage['headers']; body: string };

function call(
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer | string | { file: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { host: 'localhost', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body && typeof body === 'object' && 'file' in body) createReadStream(body.file).pipe(req);
    else req.end(body);
  });
}

export class RegistryClient {
  constructor(private readonly socketPath: string) {}

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    return (await call(this.socketPath, 'HEAD', `/v2/${repo}/blobs/${digest}`)).status === 200;
  }

  /** The digest a tag points at, or undefined when the registry lacks it. */
  async manifestDigest(repo: string, tag: string): Promise<string | undefined> {
    const r = await call(this.socketPath, 'HEAD', `/v2/${repo}/manifests/${tag}`, { accept: MANIFEST_V2 });
    const digest = r.headers['docker-content-digest'];
    return r.status === 200 && typeof digest === 'string' ? digest : undefined;
  }

  /** Uploads a blob in one request (monolithic upload) unless the registry has it; returns the bytes sent. */
  async pushBlob(repo: string, digest: string, content: Buffer | { file: string }, from?: string): Promise<number> {
    if (await this.hasBlob(repo, digest)) return 0;
    if (from && from !== repo) {
      // Cross-repository mount: the registry links the blob it already has, nothing is sent.
      const q = new URLSearchParams({ mount: digest, from });
      const m = await call(this.socketPath, 'POST', `/v2/${repo}/blobs/uploads/?${q}`, { 'content-length': 0 });
      if (m.status === 201) return 0;
      if (m.status === 202 && m.headers.location)
        await call(this.socketPath, 'DELETE', new URL(m.headers.location, 'http://localhost').pathname);
    }
    const start = await call(this.socketPath, 'POST', `/v2/${repo}/blobs/uploads/`, { 'content-length': 0 });
    if (start.status !== 202 || !start.headers.location)
      throw new Error(`registry refused an upload to ${repo}: ${start.status} ${start.body}`);
    const location = new URL(start.headers.location, 'http://localhost');
    location.searchParams.set('digest', digest);
    const length = Buffer.isBuffer(content) ? content.length : statSync(content.file).size;
    const put = await call(
      this.socketPath,
      'PUT',
      location.pathname + location.search,
      { 'content-type': 'application/octet-stream', 'content-length': length },
      content,
    );
    if (put.status !== 201) throw new Error(`registry rejected blob ${digest} for ${repo}: ${put.status} ${put.body}`);
    return length;
  }

  async pushManifest(repo: string, tag: string, manifest: string): Promise<void> {
    const r = await call(
      this.socketPath,
      'PUT',
      `/v2/${repo}/manifests/${tag}`,
      {
        'content-type': MANIFEST_V2,
        'content-length': Buffer.byteLength(manifest),
      },
      manifest,
    );
    if (r.status !== 201) throw new Error(`registry rejected the manifest ${repo}:${tag}: ${r.status} ${r.body}`);
  }
}
