// The Layers tab: images and containers of the learner's engine, an image's layers, one layer's files.
import type Docker from 'dockerode';
import { z } from 'zod';
import { SANDBOX_ID, type EngineContents, type LayerFiles, type PathHistory } from '@dockside/protocol';
import { NobodyWaitsError } from '../layers/analyzer';
import { EngineExportError, EngineLimitError } from '../layers/limits';
import type { ApiDeps } from './deps';
import { HttpError } from './respond';
import { parse, type Ctx, type Route } from './router';
import { ownSandbox } from './sandboxRoutes';

// Image references as Docker spells them (name[:tag][@digest] or an id): components joined by single
// slashes, none empty. A path the engine would redirect (`a//b`, `a/`) is no reference.
const IMAGE = '([A-Za-z0-9][A-Za-z0-9._:@-]{0,127}(?:/[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}){0,7})';
// Container names and ids, as `docker run --name` accepts them.
const CONTAINER = '([A-Za-z0-9][A-Za-z0-9_.-]{0,127})';

/**
 * What the learner's engine sent that the Layers view refused: too much (422, with the limit for the
 * page to word it), or not an image export (502: the engine, not this server, answered badly).
 */
function refused(err: unknown): HttpError | undefined {
  // The read stopped because the browser went away: nobody gets this answer, and it is no fault.
  if (err instanceof NobodyWaitsError || (err instanceof Error && err.cause instanceof NobodyWaitsError))
    return new HttpError(503, 'gone', 'the request went away before the image export was read');
  if (err instanceof EngineLimitError)
    return new HttpError(422, 'engine_limit', err.message, { limit: err.limit, max: err.max });
  if (err instanceof EngineExportError) return new HttpError(502, 'engine_export', err.message);
  // The learner's engine is down (stopped by its learner, restarting, or its sandbox ending): say so.
  if (['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? ''))
    return new HttpError(503, 'engine_unavailable', 'your Docker Engine is not answering; try again in a moment');
  return undefined;
}

async function engineCall<T>(work: () => Promise<T>, what: string): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404) throw new HttpError(404, 'not_found', `no ${what} in your engine`);
    // A name the engine refuses (`Docker_Intro`: upper case) or redirects is the caller's to fix, not a
    // fault here.
    if (status !== undefined && status >= 300 && status < 500) {
      const why = String((err as { json?: { message?: unknown } }).json?.message ?? 'a name it does not accept');
      throw new HttpError(400, 'invalid_request', `your engine refused ${what}: ${why.split('\n')[0]!.slice(0, 200)}`);
    }
    throw refused(err) ?? err;
  }
}

/** Aborted when the browser goes away before the request's answer is sent (a reload, a tab closed). */
function gone({ res }: Ctx): AbortSignal {
  const left = new AbortController();
  if (res.destroyed) left.abort();
  else res.once('close', () => !res.writableFinished && left.abort());
  return left.signal;
}

const FilesQuery = z.object({ mode: z.enum(['changes', 'upto']).default('changes') });
const PathQuery = z.object({ path: z.string().min(1).max(4096) });

/**
 * The Layers API for one sandbox, under `prefix` (a path pattern with `groups` capture groups) whose
 * sandbox `sandboxOf` resolves and authorises: the learner's own, or a workshop learner's for their
 * instructor.
 */
export function layerRoutesUnder(
  prefix: string,
  groups: number,
  sandboxOf: (ctx: Ctx, deps: ApiDeps) => string | Promise<string>,
): Route<ApiDeps>[] {
  const at = (ctx: Ctx, i: number) => ctx.params[groups + i]!;
  const engineOf = async (ctx: Ctx, deps: ApiDeps) => deps.engine.docker(await sandboxOf(ctx, deps));
  return [
    {
      method: 'GET',
      path: new RegExp(`^${prefix}/images$`),
      handle: async (ctx, deps) => {
        const docker = await engineOf(ctx, deps);
        const [images, containers] = await Promise.all([
          docker.listImages(),
          docker.listContainers({ all: true, size: true }),
        ]).catch((err: unknown) => {
          throw refused(err) ?? err;
        });
        // Layer digests per image, so the page can show which layers images share.
        const diffIds = await Promise.all(
          images.map((i) =>
            docker
              .getImage(i.Id)
              .inspect()
              .then((info) => info.RootFS?.Layers ?? [])
              .catch(() => []),
          ),
        );
        return {
          images: images.map((i, n) => ({
            id: i.Id,
            tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
            size: i.Size,
            created: i.Created,
            diffIds: diffIds[n]!,
          })),
          containers: (containers as (Docker.ContainerInfo & { SizeRw?: number; SizeRootFs?: number })[]).map((c) => ({
            id: c.Id,
            name: c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12),
            image: c.Image,
            state: c.State,
            sizeRw: c.SizeRw ?? 0,
            sizeRootFs: c.SizeRootFs ?? 0,
          })),
        } satisfies EngineContents;
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${prefix}/images/${IMAGE}/layers$`),
      handle: async (ctx, deps) => {
        const docker = await engineOf(ctx, deps);
        return engineCall(() => deps.layers.instant(docker, at(ctx, 0)!, gone(ctx)), `image ${at(ctx, 0)}`);
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${prefix}/images/${IMAGE}/analysis$`),
      handle: async (ctx, deps) => {
        const docker = await engineOf(ctx, deps);
        return engineCall(() => deps.layers.full(docker, at(ctx, 0)!, gone(ctx)), `image ${at(ctx, 0)}`);
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${prefix}/images/${IMAGE}/layers/(\\d{1,4})/files$`),
      handle: async (ctx, deps) => {
        const docker = await engineOf(ctx, deps);
        const { mode } = parse(FilesQuery, Object.fromEntries(ctx.query));
        const layer = Number(at(ctx, 1));
        const files = await engineCall(
          async () => {
            try {
              return await deps.layers.files(docker, at(ctx, 0)!, layer, mode, gone(ctx));
            } catch (err) {
              if (err instanceof RangeError) throw new HttpError(404, 'not_found', `no layer ${layer}: ${err.message}`);
              throw err;
            }
          },
          `image ${at(ctx, 0)}`,
        );
        return { layer, mode, files } satisfies LayerFiles;
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${prefix}/images/${IMAGE}/paths$`),
      handle: async (ctx, deps) => {
        const docker = await engineOf(ctx, deps);
        const { path } = parse(PathQuery, Object.fromEntries(ctx.query));
        const history = await engineCall(
          () => deps.layers.pathHistory(docker, at(ctx, 0)!, path, gone(ctx)),
          `image ${at(ctx, 0)}`,
        );
        return { path, history } satisfies PathHistory;
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${prefix}/containers/${CONTAINER}/changes$`),
      handle: async (ctx, deps) => {
        const docker = await engineOf(ctx, deps);
        return engineCall(() => deps.layers.container(docker, at(ctx, 0)!), `container ${at(ctx, 0)}`);
      },
    },
  ];
}

export const layerRoutes = layerRoutesUnder(`/api/sandboxes/(${SANDBOX_ID})`, 1, ownSandbox);
