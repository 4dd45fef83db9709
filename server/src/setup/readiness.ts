import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { NATIVE_BUILD_DIR } from '../paths';

/** Whether sandboxes can be created: the runtime is built and the base image exists. */
export function runtimeReadiness(config: Config): { ok: boolean; detail: string } {
  // On Kubernetes the cluster makes sandboxes; the driver says so when it cannot (kubernetes/).
  if (config.runtime.kind === 'kubernetes') return { ok: true, detail: `pods in ${config.runtime.namespace}` };
  const bin = process.env.DOCKSIDE_SANDBOX_BIN ?? path.join(NATIVE_BUILD_DIR, 'dockside-sandbox');
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    return { ok: false, detail: `sandbox runtime not built: ${bin} (run npm start, or make -C native)` };
  }
  const rootfs = path.join(config.dataDir, 'images', 'base', 'current', 'rootfs');
  if (!existsSync(rootfs)) return { ok: false, detail: `sandbox base image not built: ${rootfs} (run npm start)` };
  return { ok: true, detail: 'ready' };
}
