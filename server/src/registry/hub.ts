// "registry-1.docker.io" inside sandboxes: a TLS endpoint (certificate from Dockside's own CA, which
// sandboxes trust) that serves what the mirror has and answers everything else as Docker Hub does,
// so `docker pull does-not-exist` prints Docker's own "pull access denied … repository does not
// exist" instead of a DNS error. Sandboxes reach it through registry/forward/443.sock.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import path from 'node:path';

const HUB_NAMES = ['registry-1.docker.io', 'index.docker.io', 'docker.io'];
const DENIED = JSON.stringify({
  errors: [{ code: 'DENIED', message: 'requested access to the resource is denied', detail: null }],
});

/** A CA and a certificate for Docker Hub's names, made once with openssl. */
export function ensureHubCertificate(tlsDir: string, forwardDir: string): { key: Buffer; cert: Buffer } {
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const f = (n: string) => path.join(tlsDir, n);
  if (!existsSync(f('hub.crt'))) {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
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
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt'),
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=registry-1.docker.io',
      '-keyout',
      f('hub.key'),
      '-out',
      f('hub.csr'),
    );
    const ext = f('hub.ext');
    writeFileSync(ext, `subjectAltName=${HUB_NAMES.map((n) => `DNS:${n}`).join(',')}\n`);
    ssl(
      'x509',
      '-req',
      '-in',
      f('hub.csr'),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '3650',
      '-extfile',
      ext,
      '-out',
      f('hub.crt'),
    );
    rmSync(f('hub.csr'), { force: true });
  }
  copyFileSync(f('ca.crt'), path.join(forwardDir, 'ca.crt'));
  chmodSync(path.join(forwardDir, 'ca.crt'), 0o644);
  return { key: readFileSync(f('hub.key')), cert: readFileSync(f('hub.crt')) };
}

function repositoryExists(socketPath: string, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const r = request({ socketPath, path: `/v2/${name}/tags/list` }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    r.on('error', () => resolve(true)); // when unsure, report what the registry said
    r.end();
  });
}

/** Serves the mirror's content for repositories it has; DENIED, like Docker Hub, for the rest. */
export function startHub(
  socketPath: string,
  mirrorSocket: string,
  tls: { key: Buffer; cert: Buffer },
): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer(tls, (req, res) => {
    const upstream = request(
      { socketPath: mirrorSocket, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        if (r.statusCode !== 404) {
          res.writeHead(r.statusCode ?? 502, r.headers);
          return void r.pipe(res);
        }
        // A missing repository is "denied" on Docker Hub; a missing tag of one that exists is not.
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', async () => {
          const name = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(req.url ?? '')?.[1];
          const missingRepo = name !== undefined && !(await repositoryExists(mirrorSocket, name));
          if (!missingRepo) {
            res.writeHead(404, r.headers);
            return void res.end(body);
          }
          res.writeHead(401, {
            'content-type': 'application/json',
            // What Docker Hub answers for a repository that does not exist (or that one may not read).
            'www-authenticate':
              'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",error="insufficient_scope"',
            'docker-distribution-api-version': 'registry/2.0',
            'content-length': Buffer.byteLength(DENIED),
          });
          res.end(DENIED);
        });
      },
    );
    upstream.on('error', () => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'the registry is restarting; try again' }] }));
    });
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o666);
      resolve(server);
    });
  });
}
