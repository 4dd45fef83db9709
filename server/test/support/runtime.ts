// Whether real sandboxes can run here: the native runtime is built and the base image exists.
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { NATIVE_BUILD_DIR } from '../../src/paths';

/** The data dir `npm start` / `npm test` prepared (base image, lesson images, registry). */
export const SHARED_DATA_DIR = process.env.DOCKSIDE_DATA_DIR ?? '/var/lib/dockside';

export function sandboxesAvailable(): boolean {
  try {
    accessSync(path.join(NATIVE_BUILD_DIR, 'dockside-sandbox'), constants.X_OK);
  } catch {
    return false;
  }
  return process.getuid?.() === 0 && existsSync(path.join(SHARED_DATA_DIR, 'images', 'base', 'current', 'rootfs'));
}
