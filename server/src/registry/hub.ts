// "registry-1.docker.io" inside sandboxes. dockerd tries its mirror (127.0.0.1:5000) first and, for
// anything the mirror lacks, falls back to Docker Hub itself; the sandbox's /etc/hosts sends that name to
// 127.0.0.1:443, relayed to this TLS endpoint (certificate from Dockside's own CA, which the base image
// trusts; ./hubCertificate.ts). It serves what the read-only mirror has; a repository the mirror lacks
// goes to the pull-through cache of the upstream when there is one (the catalogue's names never do, so
// lessons always get our images), and is otherwise refused in Docker Hub's form with a message that says
// what this registry carries (./refusal.ts). `docker search` is answered from the catalogue (./search.ts).
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import { chmodSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream';
import type { HubTls } from './hubCertificate';
import { hubDenied, notCarried, PUSH_DENIED } from './refusal';
import { searchAnswer } from './search';
import { upstreamUnreachable, type Upstream } from './upstream';

export type HubOptions = {
  /** The upstream and the socket of its pull-through cache (the supervisor's `proxy` instance). */
  upstream?: Upstream & { socket: string };
};

const json = (body: unknown) => JSON.stringify(body);
const UNAVAILABLE = json({
  errors: [{ code: 'UNAVAILABLE', message: 'the registry is restarting, try again in a few seconds', detail: null }],
});

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

/** The official-image names the mirror serves (`nginx`, not `library/nginx`), sorted. */
async function carriedBy(mirrorSocket: string): Promise<string[]> {
  const catalog = JSON.parse((await get(mirrorSocket, '/v2/_catalog?n=1000')).body) as { repositories?: string[] };
  return (catalog.repositories ?? [])
    .filter((r) => r.startsWith('library/'))
    .map((r) => r.slice('library/'.length))
    .sort();
}

const MANIFEST_OR_BLOB = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/;

/** Serves the mirror's content, then the upstream's through its cache; Docker Hub's denial for the rest. */
export function startHub(
  socketPath: string,
  mirrorSocket: string,
  tls: HubTls,
  opts: HubOptions = {},
): Promise<Server> {
  rmSync(socketPath, { force: true });
  const { upstream } = opts;
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
    /** Relays `r` as it comes: a blob cut short ends the engine's download too (it retries), not later. */
    const relay = (r: IncomingMessage) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      pipeline(r, res, () => {});
    };
    /** Forwards the request to a registry socket; an engine that gives up ends the registry's answer with it. */
    const forward = (socket: string, onReply: (r: IncomingMessage) => void, onError: (err: Error) => void) => {
      const out = request(
        { socketPath: socket, method: req.method, path: url, headers: { ...req.headers, host: 'localhost' } },
        onReply,
      );
      out.on('error', onError);
      res.once('close', () => {
        if (!res.writableFinished) out.destroy();
      });
      return out;
    };
    const deny = async (repository: string, why: (carried: string[]) => string | Promise<string>) => {
      const denied = hubDenied(repository, await why(await carriedBy(mirrorSocket)));
      send(denied.status, denied.headers, denied.body);
    };

    if (url.startsWith('/v1/search')) {
      req.resume();
      carriedBy(mirrorSocket)
        .then((carried) => {
          const body = json(searchAnswer(url, carried));
          send(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body);
        })
        .catch(unavailable);
      return;
    }
    // A push: nobody is logged in to this Docker Hub, so it is denied as Hub denies an anonymous push.
    const upload = /^\/v2\/(.+)\/(blobs\/uploads|manifests)\b/.exec(url);
    if (upload && req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      const denied = hubDenied(upload[1]!, PUSH_DENIED, 'pull,push');
      return send(denied.status, denied.headers, denied.body);
    }

    /** A manifest or blob of a repository the mirror does not have at all. */
    const notInMirror = (repository: string, kind: string, reference: string) => {
      // Only reads go to the cache (it would take a DELETE).
      if (!upstream || (req.method !== 'GET' && req.method !== 'HEAD'))
        return deny(repository, (carried) => notCarried(repository, carried)).catch(unavailable);
      const host = new URL(upstream.url).host;
      const refuse = (unreachable: string | null) =>
        deny(repository, (carried) => notCarried(repository, carried, { host, reference, unreachable }));
      forward(
        upstream.socket,
        (r) => {
          const status = r.statusCode ?? 502;
          // A blob's failure is passed on as it is: its manifest came through, so the engine retries.
          if (status < 400 || kind === 'blobs') return relay(r);
          const chunks: Buffer[] = [];
          r.on('data', (d: Buffer) => chunks.push(d));
          r.on('end', () => {
            // The cache answers "manifest unknown" both when the upstream lacks the image and when it
            // cannot reach it: ask the upstream itself which. Another error (a login refused, the
            // upstream's own 5xx) is the upstream's to tell, when it could be reached.
            upstreamUnreachable(upstream)
              .then((unreachable) =>
                status === 404 || unreachable ? refuse(unreachable) : send(status, r.headers, Buffer.concat(chunks)),
              )
              .catch(unavailable);
          });
        },
        // The cache is not running: its upstream was down when it last started (the supervisor retries).
        () =>
          upstreamUnreachable(upstream)
            .then((unreachable) =>
              refuse(unreachable ?? 'its pull-through cache is starting; try again in a few seconds'),
            )
            .catch(unavailable),
      ).end();
    };

    const fromMirror = forward(
      mirrorSocket,
      (r) => {
        const m = MANIFEST_OR_BLOB.exec(url.split('?')[0]!);
        if (r.statusCode !== 404 || !m) return relay(r);
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => {
          // Does the repository exist here at all? One the catalogue has keeps its own answer (unknown tag).
          get(mirrorSocket, `/v2/${m[1]}/tags/list`)
            .then((tags) => {
              if (tags.status === 200) return send(404, r.headers, Buffer.concat(chunks));
              return notInMirror(m[1]!, m[2]!, m[3]!);
            })
            .catch(unavailable);
        });
      },
      unavailable,
    );
    req.pipe(fromMirror);
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
