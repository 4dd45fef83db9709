// Where the registry keeps its storage, configs, sockets and certificates under the data dir.
import path from 'node:path';

export type RegistryPaths = {
  root: string;
  storage: string;
  configDir: string;
  runDir: string;
  /** Read-write instance: root/server only, for setup pushes. */
  pushSocket: string;
  /** The pull-through cache of DOCKSIDE_REGISTRY_UPSTREAM: its own storage, a socket only the hub uses. */
  proxyStorage: string;
  proxySocket: string;
  /** Lent to every sandbox (native/ binds it at /run/dockside/forward; dockside-init serves `<port>.sock` on 127.0.0.1:<port>). */
  forwardDir: string;
  /** Read-only instance: the sandboxes' registry mirror (127.0.0.1:5000 inside). */
  mirrorSocket: string;
  /** TLS "registry-1.docker.io" (127.0.0.1:443 inside): Docker Hub's own answers for what the mirror lacks. */
  hubSocket: string;
  /** The CA sandboxes trust for the hub (linked from the base image). */
  forwardCa: string;
  tlsDir: string;
  lockFile: string;
};

export function registryPaths(dataDir: string): RegistryPaths {
  const root = path.join(dataDir, 'registry');
  const forwardDir = path.join(root, 'forward');
  const runDir = path.join(root, 'run');
  return {
    root,
    storage: path.join(root, 'storage'),
    configDir: path.join(root, 'config'),
    runDir,
    pushSocket: path.join(runDir, 'push.sock'),
    proxyStorage: path.join(root, 'proxy-storage'),
    proxySocket: path.join(runDir, 'proxy.sock'),
    forwardDir,
    mirrorSocket: path.join(forwardDir, '5000.sock'),
    hubSocket: path.join(forwardDir, '443.sock'),
    forwardCa: path.join(forwardDir, 'ca.crt'),
    tlsDir: path.join(root, 'tls'),
    lockFile: path.join(runDir, 'supervisor.pid'),
  };
}
