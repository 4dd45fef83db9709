// The Layers tab: images and containers of the learner's engine, an image's layers, one layer's files.
import type Docker from 'dockerode';
import { z } from 'zod';
import type { ApiDeps } from './api';
import { HttpError } from './respond';
import { parse, type Route } from './router';
import { ownSandbox } from './sandboxRoutes';

const SB = '([a-z0-9][a-z0-9-]{0,39})';
// Image references as Docker accepts them (name[:tag] or an id), container names or ids.
const REF = '([A-Za-z0-9][A-Za-z0-9._/:@-]{0,255})';

async function engineCall<T>(work: () => Promise<T>, what: string): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404) throw new HttpError(404, 'not_found', `no ${what} in your engine`);
    throw err;
  }
}

const FilesQuery = z.object({ mode: z.enum(['changes', 'upto']).default('changes') });
const PathQuery = z.object({ path: z.string().min(1).max(4096) });

export const layerRoutes: Route<ApiDeps>[] = [
  {
    method: 'GET',
    path: new RegExp(`^/api/sandboxes/${SB}/images$`),
    handle: async (ctx, deps) => {
      const docker = deps.engine.checks.docker(ownSandbox(ctx, deps));
      const [images, containers] = await Promise.all([
        docker.listImages(),
        docker.listContainers({ all: true, size: true }),
      ]);
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
      };
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/sandboxes/${SB}/images/${REF}/layers$`),
    handle: async (ctx, deps) => {
      const docker = deps.engine.checks.docker(ownSandbox(ctx, deps));
      return engineCall(() => deps.engine.layers.instant(docker, ctx.params[1]!), `image ${ctx.params[1]}`);
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/sandboxes/${SB}/images/${REF}/analysis$`),
    handle: async (ctx, deps) => {
      const docker = deps.engine.checks.docker(ownSandbox(ctx, deps));
      return engineCall(() => deps.engine.layers.full(docker, ctx.params[1]!), `image ${ctx.params[1]}`);
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/sandboxes/${SB}/images/${REF}/layers/(\\d{1,4})/files$`),
    handle: async (ctx, deps) => {
      const docker = deps.engine.checks.docker(ownSandbox(ctx, deps));
      const { mode } = parse(FilesQuery, Object.fromEntries(ctx.query));
      const layer = Number(ctx.params[2]);
      const files = await engineCall(async () => {
        try {
          return await deps.engine.layers.files(docker, ctx.params[1]!, layer, mode);
        } catch (err) {
          if (err instanceof RangeError) throw new HttpError(404, 'not_found', `no layer ${layer}: ${err.message}`);
          throw err;
        }
      }, `image ${ctx.params[1]}`);
      return { layer, mode, files };
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/sandboxes/${SB}/images/${REF}/paths$`),
    handle: async (ctx, deps) => {
      const docker = deps.engine.checks.docker(ownSandbox(ctx, deps));
      const { path } = parse(PathQuery, Object.fromEntries(ctx.query));
      const history = await engineCall(
        () => deps.engine.layers.pathHistory(docker, ctx.params[1]!, path),
        `image ${ctx.params[1]}`,
      );
      return { path, history };
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/sandboxes/${SB}/containers/${REF}/changes$`),
    handle: async (ctx, deps) => {
      const docker = deps.engine.checks.docker(ownSandbox(ctx, deps));
      return engineCall(() => deps.engine.layers.container(docker, ctx.params[1]!), `container ${ctx.params[1]}`);
    },
  },
];
