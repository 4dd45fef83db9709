// The learner's sandbox and the files in its /workspace. Every call checks that the sandbox is theirs.
import { z } from 'zod';
import { SANDBOX_ID } from '@dockside/protocol';
import { FileError, MAX_FILE_BYTES } from '../engine/files';
import type { ApiDeps } from './deps';
import { HttpError } from './respond';
import { parse, type Ctx, type Route } from './router';

const SB = `(${SANDBOX_ID})`;

/**
 * The sandbox id from the path, if it belongs to the caller, marked active; else a SandboxAccessError:
 * 403 forbidden (404 not_found when it is not running).
 */
export function ownSandbox({ learnerId, params }: Ctx, { engine }: ApiDeps): Promise<string> {
  return engine.authorizeAnyReplica(learnerId, params[0]!);
}

function queryPath(ctx: Ctx): string {
  const p = ctx.query.get('path');
  if (!p) throw new HttpError(400, 'invalid_request', 'the path query parameter is required');
  return p;
}

/** Files errors keep their status and code; the conflict carries the current etag. */
export async function files<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof FileError) throw new HttpError(err.status, err.code, err.message, err.detail);
    throw err;
  }
}

const WriteBody = z.object({ content: z.string(), etag: z.string().optional() });
const CreateBody = z.object({ path: z.string(), type: z.enum(['file', 'dir']) });
const RenameBody = z.object({ from: z.string(), to: z.string() });

export const sandboxRoutes: Route<ApiDeps>[] = [
  {
    method: 'GET',
    path: /^\/api\/sandboxes\/current$/,
    handle: async ({ learnerId }, { engine }) => {
      return { sandbox: await engine.current(learnerId) };
    },
  },
  {
    method: 'POST',
    path: /^\/api\/sandboxes\/current\/reset$/,
    handle: async ({ learnerId, client }, { engine }) => {
      const r = await engine.reset(learnerId, client);
      if ('queued' in r)
        throw new HttpError(503, 'queued', `the machine is full — you are number ${r.queued.position} in the queue`, r);
      return { sandbox: r.sandbox };
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/sandboxes/${SB}/files$`),
    handle: async (ctx, deps) => {
      const id = await ownSandbox(ctx, deps);
      return { entries: await files(() => deps.engine.files(id).list(ctx.query.get('path') ?? '/workspace')) };
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/sandboxes/${SB}/file$`),
    handle: async (ctx, deps) => {
      const id = await ownSandbox(ctx, deps);
      return files(() => deps.engine.files(id).read(queryPath(ctx)));
    },
  },
  {
    method: 'PUT',
    path: new RegExp(`^/api/sandboxes/${SB}/file$`),
    // JSON escaping can double a text's size; the file itself is limited to 1 MiB below.
    maxBody: 4 * MAX_FILE_BYTES,
    handle: async (ctx, deps) => {
      const id = await ownSandbox(ctx, deps);
      const { content, etag } = parse(WriteBody, ctx.body);
      return files(() => deps.engine.files(id).write(queryPath(ctx), content, etag));
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/sandboxes/${SB}/files$`),
    handle: async (ctx, deps) => {
      const id = await ownSandbox(ctx, deps);
      const { path, type } = parse(CreateBody, ctx.body);
      return files(() => deps.engine.files(id).create(path, type));
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/sandboxes/${SB}/files/rename$`),
    handle: async (ctx, deps) => {
      const id = await ownSandbox(ctx, deps);
      const { from, to } = parse(RenameBody, ctx.body);
      return files(() => deps.engine.files(id).rename(from, to));
    },
  },
  {
    method: 'DELETE',
    path: new RegExp(`^/api/sandboxes/${SB}/file$`),
    handle: async (ctx, deps) => {
      const id = await ownSandbox(ctx, deps);
      return files(() => deps.engine.files(id).remove(queryPath(ctx)));
    },
  },
];
