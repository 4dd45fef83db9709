import next from 'next';
import path from 'node:path';
import { WEB_DIR } from '../paths';
import type { PageHandler } from './app';
import { builtAssets } from './builtAssets';

/**
 * The Next.js request handler for web/ (built by `next build`, or compiled on demand in dev); a built
 * app's hashed files go out precompressed (builtAssets.ts).
 */
export async function createPages(dev: boolean): Promise<{ handle: PageHandler; close: () => Promise<void> }> {
  const app = next({ dev, dir: WEB_DIR });
  await app.prepare();
  const handler = app.getRequestHandler();
  // The build directory as web/next.config.ts names it.
  const assets = dev ? null : builtAssets(path.join(WEB_DIR, process.env.DOCKSIDE_WEB_BUILD_DIR ?? '.next', 'static'));
  return {
    handle: async (req, res) => {
      if (!(await assets?.(req, res))) await handler(req, res);
    },
    close: () => app.close(),
  };
}
