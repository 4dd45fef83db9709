// Port previews as a browser reaches them: at http://<port>-<sandbox>.preview.localhost:<PORT>/, which a
// browser resolves to this machine by itself. Node does not, so requests go to the server's address with
// the preview's name in the Host header — what the browser would send.
import { request, type IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Learner } from './learner';

export type Answer = { status: number; headers: IncomingHttpHeaders; body: string };

function target(serverUrl: string, url: string) {
  const server = new URL(serverUrl);
  const u = new URL(url);
  return { hostname: server.hostname, port: Number(server.port), host: u.host, path: u.pathname + u.search };
}

/** One request to a preview (or any) URL, through the server; redirects are not followed. */
export function previewFetch(
  serverUrl: string,
  url: string,
  opts: { cookie?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const t = target(serverUrl, url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: t.hostname,
        port: t.port,
        path: t.path,
        headers: { host: t.host, ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A websocket-style upgrade to a preview URL: the answer's status and headers, and the connection. */
export function previewUpgrade(
  serverUrl: string,
  url: string,
  cookie?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; socket?: Duplex }> {
  const t = target(serverUrl, url);
  return new Promise((resolve, reject) => {
    const req = request({
      hostname: t.hostname,
      port: t.port,
      path: t.path,
      headers: {
        host: t.host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...(cookie ? { cookie } : {}),
      },
    });
    req.on('upgrade', (res, socket) => resolve({ status: res.statusCode ?? 0, headers: res.headers, socket }));
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('error', reject);
    req.end();
  });
}

/** What the owner's page does: ask the app for a one-time link, and open it (once). */
export async function previewLink(learner: Learner, sandboxId: string, port: number): Promise<string> {
  const res = await learner.fetch(`/api/sandboxes/${sandboxId}/previews/${port}`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`preview link: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { url: string }).url;
}

/** Opens the owner's link as the browser does: the preview host's cookie it sets, and where it leads. */
export async function openPreview(
  learner: Learner,
  sandboxId: string,
  port: number,
): Promise<{ cookie: string; location: string; setCookie: string }> {
  const link = await previewLink(learner, sandboxId, port);
  const res = await previewFetch(learner.url, link);
  if (res.status !== 303) throw new Error(`opening ${link}: ${res.status} ${res.body.slice(0, 300)}`);
  const setCookie = (res.headers['set-cookie'] ?? [])[0] ?? '';
  return { cookie: setCookie.split(';')[0]!, location: String(res.headers.location), setCookie };
}
