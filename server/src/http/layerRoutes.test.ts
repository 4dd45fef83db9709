import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { NobodyWaitsError } from '../layers/analyzer';
import { EngineExportError, EngineLimitError } from '../layers/limits';
import type { ApiDeps } from './api';
import { layerRoutesUnder } from './layerRoutes';
import { HttpError } from './respond';
import type { Ctx } from './router';

const routes = layerRoutesUnder('/api/sandboxes/(sb)', 1, () => 'sb');

/** Calls the route at `url` with an engine whose Docker client and analyzer fail with `err`. */
function call(url: string, err: Error): Promise<unknown> {
  const path = url.replace(/\?.*$/, '');
  const route = routes.find((r) => r.method === 'GET' && r.path.test(path))!;
  const fail = async () => {
    throw err;
  };
  const deps = {
    engine: {
      authorize: (_learnerId: string, sandboxId: string) => sandboxId,
      docker: () => ({ listImages: fail, listContainers: fail }),
    },
    layers: { instant: fail, full: fail, files: fail, pathHistory: fail, container: fail },
  } as unknown as ApiDeps;
  const ctx = {
    res: new ServerResponse(new IncomingMessage(new Socket())),
    params: route.path.exec(path)!.slice(1),
    query: new URLSearchParams(url.split('?')[1] ?? ''),
  } as unknown as Ctx;
  return route.handle(ctx, deps);
}

const limit = new EngineLimitError(
  'entries',
  2_000_000,
  'the image export has more than 2,000,000 files; the Layers view stops there',
);

describe('Layers routes, when the learner engine sent too much', () => {
  it.each([
    '/api/sandboxes/sb/images',
    '/api/sandboxes/sb/images/evil/layers',
    '/api/sandboxes/sb/images/evil/analysis',
    '/api/sandboxes/sb/images/evil/layers/0/files?mode=upto',
    '/api/sandboxes/sb/images/evil/paths?path=/etc',
    '/api/sandboxes/sb/containers/evil/changes',
  ])('%s answers 422 engine_limit with the message and the limit, not a 500', async (url) => {
    const err = await call(url, limit).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({
      status: 422,
      code: 'engine_limit',
      message: 'the image export has more than 2,000,000 files; the Layers view stops there',
      detail: { limit: 'entries', max: 2_000_000 },
    });
  });

  it.each(['ECONNREFUSED', 'ENOENT', 'ECONNRESET'])(
    'answers 503 engine_unavailable on every route when the engine is down (%s)',
    async (code) => {
      for (const url of ['/api/sandboxes/sb/images/evil/layers', '/api/sandboxes/sb/containers/evil/changes']) {
        const down = Object.assign(new Error(`connect ${code} /run/docker.sock`), { code });
        await expect(call(url, down)).rejects.toMatchObject({ status: 503, code: 'engine_unavailable' });
      }
    },
  );

  it('answers 502 engine_export for an export that is not one', async () => {
    const err = await call('/api/sandboxes/sb/images/evil/analysis', new EngineExportError('not a tar')).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 502, code: 'engine_export', message: 'not a tar' });
  });

  it('answers a read stopped because the browser went away as no fault (nobody gets it)', async () => {
    for (const err of [new NobodyWaitsError(), new EngineExportError('cut', { cause: new NobodyWaitsError() })])
      expect(await call('/api/sandboxes/sb/images/evil/analysis', err).catch((e: unknown) => e)).toMatchObject({
        status: 503,
        code: 'gone',
      });
  });

  it('leaves other failures to the generic handler', async () => {
    const boom = new Error('boom');
    await expect(call('/api/sandboxes/sb/images/evil/analysis', boom)).rejects.toBe(boom);
  });
});
