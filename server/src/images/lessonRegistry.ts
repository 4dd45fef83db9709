// A registry that serves the lesson images for `dataDir`: starts the supervisor, then pushes whatever it
// lacks from the image cache (a warm cache makes this a second or two). Tests and tools that need real
// pulls in their own data dir use this; the server itself starts the supervisor and `npm start` the build.
import path from 'node:path';
import { RegistrySupervisor, type SupervisorOptions } from '../registry/supervisor';
import { buildLessonImages, type ImageSummary } from './build';

export async function startLessonRegistry(opts: {
  dataDir: string;
  /** The shared image cache (default: <dataDir>/images/lessons). */
  cacheDir?: string;
  log?: (message: string) => void;
  registry?: SupervisorOptions;
}): Promise<{ registry: RegistrySupervisor; images: ImageSummary[] }> {
  const registry = await new RegistrySupervisor(opts.dataDir, opts.registry ?? { log: () => {} }).start();
  try {
    const images = await buildLessonImages({
      dataDir: opts.dataDir,
      cacheDir: opts.cacheDir ?? path.join(opts.dataDir, 'images', 'lessons'),
      log: opts.log ?? (() => {}),
    });
    return { registry, images };
  } catch (err) {
    await registry.stop();
    throw err;
  }
}
