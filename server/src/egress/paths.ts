// Where the egress proxy keeps its configuration, cache and logs under the data dir, and the socket
// it lends to sandboxes.
import path from 'node:path';
import { registryPaths } from '../registry/paths';
import type { SquidPaths } from './squidConfig';

/** Inside a sandbox: every address's port 3128 (dockside-init serves `<port>.bridge.sock` so). */
export const PROXY_PORT = 3128;

export type EgressPaths = SquidPaths & {
  root: string;
  lockFile: string;
  /** In the forward dir native/ binds into every sandbox, beside the registry's sockets. */
  socket: string;
};

export function egressPaths(dataDir: string): EgressPaths {
  const root = path.join(dataDir, 'egress');
  return {
    root,
    config: path.join(root, 'squid.conf'),
    cacheDir: path.join(root, 'cache'),
    logDir: path.join(root, 'log'),
    errorDir: path.join(root, 'errors'),
    lockFile: path.join(root, 'supervisor.pid'),
    socket: path.join(registryPaths(dataDir).forwardDir, `${PROXY_PORT}.bridge.sock`),
  };
}
