// The REST API: one route table, zod validation at the edge, session and CSRF checks in one place.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { DocksideError } from '../errors';
import { catalogueRoutes } from './catalogueRoutes';
import { layerRoutes } from './layerRoutes';
import { lessonRoutes } from './lessonRoutes';
import { previewRoutes } from './previewRoutes';
import type { ApiDeps } from './deps';
import { DRAIN_LIMIT, HttpError, RawBody, sendError, sendJson, sendRaw } from './respond';
import { DisplayName, mutates, parse, type Route } from './router';
import { sandboxRoutes } from './sandboxRoutes';
import { workshopRoutes } from './workshopRoutes';

export type { ApiDeps, Health } from './deps';

const DEFAULT_MAX_BODY = 64 * 1024;

const Me = z.object({ displayName: DisplayName });

const sessionRoutes: Route<ApiDeps>[] = [
  {
    method: 'GET',
    path: /^\/api\/session$/,
    handle: async ({ learnerId }, { db, sessions }) => {
      const learner = await db.learner.findUnique({ where: { id: learnerId } });
      return { learnerId, displayName: learner?.displayName ?? null, csrfToken: sessions.csrfToken(learnerId) };
    },
  },
  {
    method: 'PATCH',
    path: /^\/api\/me$/,
    handle: async ({ learnerId, client, body }, { db, engine }) => {
      const { displayName } = parse(Me, body);
      await engine.admit(learnerId, client);
      const learner = await db.learner.update({ where: { id: learnerId }, data: { displayName } });
      return { learnerId, displayName: learner.displayName };
    },
  },
];

/** Every REST route (test/security/malformed-input.test.ts drives each with bad input). */
export const routes: Route<ApiDeps>[] = [
  ...sessionRoutes,
  ...lessonRoutes,
  ...catalogueRoutes,
  ...sandboxRoutes,
  ...previewRoutes,
  ...layerRoutes,
  ...workshopRoutes,
];

/**
 * The body as JSON. A too-large one is read to its end and thrown away before the 413: stopping on the
 * spot would close a socket with data unread, and the client would see a reset instead of the answer.
 */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = () => new HttpError(413, 'too_large', `request body is larger than ${limit} bytes`);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_LIMIT) {
        reject(tooLarge());
        req.destroy();
      } else chunks.length = 0;
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > limit) return reject(tooLarge());
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError(400, 'invalid_json', 'request body is not valid JSON'));
      }
    });
  });
}

/**
 * Reads what is left of a request's body and throws it away (up to DRAIN_LIMIT; past it, the connection
 * goes), so an answer given before the body was read (a refused token, a wrong route) reaches the client:
 * Node closes a connection whose request is unread, and a client still sending sees a broken pipe.
 */
export function drainBody(req: IncomingMessage): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_LIMIT) {
        req.destroy();
        resolve();
      }
    });
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', resolve);
    req.resume();
  });
}

/** Handles /api/* and /healthz; returns false for anything else. */
export async function handleApi(req: IncomingMessage, res: ServerResponse, deps: ApiDeps): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    const health = await deps.health();
    sendJson(res, health.database.ok ? 200 : 503, health);
    return true;
  }
  if (!url.pathname.startsWith('/api/')) return false;
  try {
    const candidates = routes.filter((r) => r.path.test(url.pathname));
    // The path is the client's to make as long as it likes; the message names its start.
    const shown = url.pathname.length > 120 ? `${url.pathname.slice(0, 120)}…` : url.pathname;
    if (candidates.length === 0) throw new HttpError(404, 'not_found', `no API at ${shown}`);
    const route = candidates.find((r) => r.method === req.method);
    if (!route) throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${shown}`);
    // A session costs a cookie, not a row: the row is written on the learner's first real action
    // (admission.ts), so a flood of cookieless requests writes nothing.
    const { learnerId, isNew } = deps.sessions.ensure(req, res);
    if (!isNew) await deps.db.learner.updateMany({ where: { id: learnerId }, data: { lastSeenAt: new Date() } });
    if (mutates(route.method)) {
      const token = req.headers['x-csrf-token'];
      if (isNew || !deps.sessions.checkCsrf(learnerId, Array.isArray(token) ? token[0] : token))
        throw new HttpError(403, 'csrf', 'missing or wrong X-CSRF-Token header; reload the page and try again');
    }
    const body = mutates(route.method) ? await readJson(req, route.maxBody ?? DEFAULT_MAX_BODY) : undefined;
    const params = route.path.exec(url.pathname)!.slice(1).map(decodeURIComponent);
    const client = deps.engine.client(req);
    const answer = await route.handle({ req, res, learnerId, client, body, params, query: url.searchParams }, deps);
    if (answer instanceof RawBody) sendRaw(res, answer);
    else sendJson(res, 200, answer);
  } catch (err) {
    await drainBody(req);
    if (err instanceof DocksideError) sendError(res, err);
    else {
      console.error(`api: ${req.method} ${url.pathname}:`, err);
      sendError(res, new HttpError(500, 'internal', 'something went wrong on the server; try again'));
    }
  }
  return true;
}
