import next from 'next';
import { WEB_DIR } from '../paths';
import type { PageHandler } from './app';

/** The Next.js request handler for web/ (built by `next build`, or compiled on demand in dev). */
export async function createPages(dev: boolean): Promise<{ handle: PageHandler; close: () => Promise<void> }> {
  const app = next({ dev, dir: WEB_DIR });
  await app.prepare();
  const handler = app.getRequestHandler();
  return { handle: (req, res) => handler(req, res), close: () => app.close() };
}
