// The Kubernetes driver as the server runs it (DOCKSIDE_RUNTIME=kubernetes): the cluster from KUBECONFIG,
// or the pod's service account inside a cluster; relays in the server's own state dir; each pod's agent
// secret derived from the session secret every replica shares.
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config';
import { KubernetesRuntime } from './kubernetesRuntime';

export async function kubernetesRuntime(config: Config): Promise<KubernetesRuntime> {
  if (config.runtime.kind !== 'kubernetes') throw new Error('DOCKSIDE_RUNTIME is not kubernetes');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const runtime = new KubernetesRuntime({
    kubeConfig,
    namespace: config.runtime.namespace,
    podTemplate: config.runtime.podTemplate,
    agentKey: createHmac('sha256', config.sessionSecret).update('dockside kubernetes agent').digest(),
    socketDir: path.join(config.stateDir, 'k8s'),
  });
  runtime.onLost((id, reason) =>
    console.warn(`dockside: sandbox ${id}: its pod was ${reason === 'deleted' ? 'deleted' : 'ended'} outside Dockside`),
  );
  await runtime.start();
  return runtime;
}
