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

/** Whether this host has cgroup v1 hierarchies (else cgroup v2 alone). */
export const CGROUP_V1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');

/**
 * A file of a sandbox's cgroup on the host, on v1 (one hierarchy per controller) or v2: `inner` for the
 * delegated cgroup the sandbox lives in, below the one that holds its limits.
 */
export function sandboxCgroupFile(id: string, v1: [controller: string, file: string], v2: string, inner = false) {
  const dir = inner ? `${id}/sandbox` : id;
  return CGROUP_V1 ? `/sys/fs/cgroup/${v1[0]}/dockside/${dir}/${v1[1]}` : `/sys/fs/cgroup/dockside/${dir}/${v2}`;
}
