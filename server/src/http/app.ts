// One process, one port: the REST API, socket.io, port previews and the Next.js pages share one server.
// The Host header says which origin a request is for: a port preview's (preview.ts) or the app's.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterTransport } from '../cluster/transport';
import { startForLessonPage } from '../realtime/firstShell';
import { attachInstructorRealtime } from '../realtime/instructorSocket';
import { attachRealtime, type Io } from '../realtime/io';
import { learnerRoom } from '../realtime/learnerSocket';
import { drainBody, handleApi, type ApiDeps } from './api';
import { handleEmbedRoutes, type EmbedDeps } from './embedRoutes';
import { handlePreview, handlePreviewUpgrade } from './preview';
import { answerClientError, HttpError, sendError } from './respond';
import { API_POLICY, framersOf, setAppHeaders, setPagePolicy } from './securityHeaders';

export type PageHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export type App = { server: Server; io: Io };

const KEEP_ALIVE_MS = 65_000;

/**
 * What a request's handler did not expect: logged with the request (its method, host and path; not its
 * query, which may carry a token), answered with a 500 if nothing was sent yet, and the request's
 * connection closed otherwise. Only that request fails; the server goes on.
 */
function failed(what: string, req: IncomingMessage, res: ServerResponse | Duplex, err: unknown): void {
  const path = (req.url ?? '/').split('?')[0]!.slice(0, 200);
  console.error(`${what}: ${req.method} ${String(req.headers.host ?? '').slice(0, 100)}${path}:`, err);
  if (!('headersSent' in res)) return void res.destroy();
  if (!res.headersSent) sendError(res, new HttpError(500, 'internal', 'something went wrong on the server'));
  else res.destroy();
}

export function createApp(
  deps: ApiDeps & {
    pages: PageHandler;
    lessonsDir: string;
    dev?: boolean;
    embed: Omit<EmbedDeps, 'sessions' | 'lessons' | 'dev'>;
    /** The replicas' bus, and socket.io's adapter when there are several (main.ts chooses). */
    cluster: Pick<ClusterTransport, 'bus' | 'adapter' | 'onReconnected'>;
  },
): App {
  const embed: EmbedDeps = { ...deps.embed, sessions: deps.sessions, lessons: deps.lessons, dev: deps.dev ?? false };
  const previews = { ...deps.previews, engine: deps.engine };
  const server = createServer((req, res) => {
    void route(req, res).catch((err) => failed('http', req, res, err));
  });
  server.on('clientError', answerClientError);
  // An idle connection stays open longer than a balancer or client keeps one to reuse (Node's 5 s is
  // shorter than most): closed under a request already on its way, that request would be reset.
  server.keepAliveTimeout = KEEP_ALIVE_MS;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setAppHeaders(res);
    const url = req.url ?? '/';
    if (url.startsWith('/api/') || url === '/healthz' || url.startsWith('/healthz?')) {
      res.setHeader('content-security-policy', API_POLICY);
      // Another origin's page (a preview, another site) gets nothing from the API, whatever its cookies.
      if (!deps.previews.origins.sameOrigin(req)) {
        await drainBody(req);
        return sendError(res, new HttpError(403, 'cross_origin', 'the API answers the app’s own pages only'));
      }
    }
    if (await handleEmbedRoutes(req, res, embed)) return;
    if (await handleApi(req, res, deps)) return;
    // A page sets the session cookie; the learner's row waits for their first real action (admission.ts).
    if (!req.url?.startsWith('/_next/')) {
      const session = deps.sessions.ensure(req, res);
      if (!session.isNew) startForLessonPage(deps.engine, req, res, session.learnerId, deps.lessonsDir);
    }
    setPagePolicy(req, res, deps.dev ?? false, framersOf(url.split('?')[0]!, embed.embedOrigins));
    await deps.pages(req, res);
  }

  const io = attachRealtime(
    server,
    deps.sessions,
    deps.engine,
    deps.lessonsDir,
    (req) => deps.previews.origins.sameOrigin(req),
    deps.cluster,
  );
  // socket.io (attached above) answers /socket.io/ on any host; on a preview's host that path, like every
  // other, is the learner's. So the Host decides first, for requests and for upgrades.
  const appListeners = {
    request: server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[],
    upgrade: server.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[],
  };
  server.removeAllListeners('request');
  server.removeAllListeners('upgrade');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (deps.previews.origins.previewTarget(req) === undefined)
      return appListeners.request.forEach((l) => l.call(server, req, res));
    void handlePreview(req, res, previews).catch((err) => failed('preview', req, res, err));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (deps.previews.origins.previewTarget(req) !== undefined)
      return void handlePreviewUpgrade(req, socket, head, previews).catch((err) => failed('preview', req, socket, err));
    if (!req.url?.startsWith('/socket.io/')) {
      socket.on('error', () => socket.destroy()); // a client that resets ends its own connection, nothing else
      return void socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    }
    appListeners.upgrade.forEach((l) => l.call(server, req, socket, head));
  });
  const instructors = attachInstructorRealtime(io, {
    ...deps,
    bus: deps.cluster.bus,
    busReconnected: deps.cluster.onReconnected,
  });
  deps.workshops.subscribe((e) => {
    if (e.type === 'notify') io.to(learnerRoom(e.learnerId)).emit('toast', { message: e.message, from: e.from });
    else instructors.workshopChanged(e.workshopId);
  });
  return { server, io };
}
