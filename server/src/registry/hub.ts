// "registry-1.docker.io" inside sandboxes. dockerd tries its mirror (127.0.0.1:5000) first and, for
// anything the mirror lacks, falls back to Docker Hub itself; the sandbox's /etc/hosts sends that name to
// 127.0.0.1:443, relayed to this TLS endpoint (certificate from Dockside's own CA, which the base image
// trusts). It serves what the read-only mirror has and answers the rest as Docker Hub does: an unknown
// repository gets Docker Hub's 401 "insufficient_scope", so `docker pull does-not-exist` prints Docker's own "pull access denied …
// repository does not exist" at once, instead of a DNS error after a timeout.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream';

export const HUB_NAMES = ['registry-1.docker.io', 'index.docker.io', 'docker.io'];

const json = (body: unknown) => JSON.stringify(body);
/**
 * Docker Hub's answer for a repository that does not exist (or is private), byte for byte in what matters:
 * dockerd turns `error="insufficient_scope"` into "pull access denied for NAME, repository does not exist
 * or may require 'docker login': denied: requested access to the resource is denied".
 */
function hubDenied(name: string, actions = 'pull'): { headers: Record<string, string | number>; body: string } {
  const body = json({
    errors: [
      {
        code: 'UNAUTHORIZED',
        message: 'authentication required',
        detail: actions.split(',').map((Action) => ({ Type: 'repository', Class: '', Name: name, Action })),
      },
    ],
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'docker-distribution-api-version': 'registry/2.0',
      'www-authenticate': `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:${name}:${actions}",error="insufficient_scope"`,
      'content-length': Buffer.byteLength(body),
    },
  };
}
const UNAVAILABLE = json({
  errors: [{ code: 'UNAVAILABLE', message: 'the registry is restarting, try again in a few seconds', detail: null }],
});

export type HubTls = { key: Buffer; cert: Buffer; caFile: string };

/** A CA and a certificate for Docker Hub's names, made once with openssl; the CA is copied to `caCopy`. */
export function ensureHubCertificate(tlsDir: string, caCopy: string): HubTls {
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const f = (n: string) => path.join(tlsDir, n);
  if (!existsSync(f('hub.crt')) || !existsSync(f('hub.key')) || !existsSync(f('ca.crt'))) {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=Dockside local CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt.new'),
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${HUB_NAMES[0]}`,
      '-keyout',
      f('hub.key.new'),
      '-out',
      f('hub.csr'),
    );
    writeFileSync(
      f('hub.ext'),
      `subjectAltName=${HUB_NAMES.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      f('hub.csr'),
      '-CA',
      f('ca.crt.new'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '3650',
      '-extfile',
      f('hub.ext'),
      '-out',
      f('hub.crt.new'),
    );
    rmSync(f('hub.csr'), { force: true });
    // The certificate last: its presence means the set is complete.
    renameSync(f('ca.crt.new'), f('ca.crt'));
    renameSync(f('hub.key.new'), f('hub.key'));
    renameSync(f('hub.crt.new'), f('hub.crt'));
  }
  copyFileSync(f('ca.crt'), caCopy);
  chmodSync(caCopy, 0o644);
  return { key: readFileSync(f('hub.key')), cert: readFileSync(f('hub.crt')), caFile: f('ca.crt') };
}

type Reply = { status: number; headers: IncomingHttpHeaders; body: string };

function get(socketPath: string, urlPath: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: urlPath, headers: { host: 'localhost' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `docker search` (Docker Hub's v1 search API) over what the registry serves. */
async function searchIn(mirrorSocket: string, url: string): Promise<string> {
  const params = new URL(url, 'https://index.docker.io').searchParams;
  const query = (params.get('q') ?? '').toLowerCase();
  const limit = Math.min(100, Math.max(1, Number(params.get('n')) || 25));
  const catalog = JSON.parse((await get(mirrorSocket, '/v2/_catalog?n=1000')).body) as { repositories?: string[] };
  const results = (catalog.repositories ?? [])
    .map((repo) => repo.replace(/^library\//, ''))
    .filter((name) => name.includes(query))
    .slice(0, limit)
    .map((name) => ({
      name,
      description: `${name}, built for Dockside from Debian packages`,
      star_count: 0,
      is_official: !name.includes('/'),
      is_automated: false,
    }));
  return json({ num_results: results.length, query, results });
}

const MANIFEST_OR_BLOB = /^\/v2\/(.+)\/(manifests|blobs)\/[^/]+$/;

/** Serves the mirror's content for repositories it has; Docker Hub's denial for the others. */
export function startHub(socketPath: string, mirrorSocket: string, tls: HubTls): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const url = req.url ?? '/';
    const send = (
      status: number,
      headers: IncomingHttpHeaders | Record<string, string | number>,
      body: string | Buffer,
    ) => {
      res.writeHead(status, headers);
      res.end(body);
    };
    const unavailable = () => {
      if (res.headersSent) return void res.destroy();
      send(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(UNAVAILABLE) }, UNAVAILABLE);
    };

    if (url.startsWith('/v1/search')) {
      req.resume();
      searchIn(mirrorSocket, url).then(
        (body) => send(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body),
        unavailable,
      );
      return;
    }
    // A push: nobody is logged in to this Docker Hub, so it is denied as Hub denies an anonymous push.
    const upload = /^\/v2\/(.+)\/(blobs\/uploads|manifests)\b/.exec(url);
    if (upload && req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      const denied = hubDenied(upload[1]!, 'pull,push');
      return send(401, denied.headers, denied.body);
    }

    const upstream = request(
      { socketPath: mirrorSocket, method: req.method, path: url, headers: { ...req.headers, host: 'localhost' } },
      (r) => {
        const m = MANIFEST_OR_BLOB.exec(url.split('?')[0]!);
        if (r.statusCode !== 404 || !m) {
          res.writeHead(r.statusCode ?? 502, r.headers);
          // A blob cut short by the mirror ends the engine's download too (it retries), not later.
          pipeline(r, res, () => {});
          return;
        }
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => {
          // Does the repository exist at all? Docker Hub denies access to one that does not (or is private).
          get(mirrorSocket, `/v2/${m[1]}/tags/list`).then((tags) => {
            if (tags.status === 200) return send(404, r.headers, Buffer.concat(chunks));
            const denied = hubDenied(m[1]!);
            send(401, denied.headers, denied.body);
          }, unavailable);
        });
      },
    );
    upstream.on('error', unavailable);
    // An engine that gives up (a pull cancelled, a sandbox stopped) ends the mirror's answer with it.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.on('tlsClientError', () => {}); // a client that gives up mid-handshake is not our problem
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      chmodSync(socketPath, 0o666);
      resolve(server);
    });
  });
}
