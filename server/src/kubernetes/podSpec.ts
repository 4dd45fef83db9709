// One sandbox's pod, made from the PodTemplate the manifests ship (deploy/kubernetes/base/
// sandbox-pod-template.yaml, patched by the operator's overlay): what is the operator's stays theirs (image,
// security context, runtime class), what is the sandbox's is filled in here (name, labels, limits, the
// agent's secret, the disk's size). The result is validated against the Pod schema before it is sent.
import type { SandboxLimits } from '../engine/runtime';
import type { K8sObject } from './kustomize';
import { validateObject } from './validate';

export const SANDBOX_CONTAINER = 'sandbox';
export const AGENT_PORT_NAME = 'agent';
export const LABELS = {
  name: 'app.kubernetes.io/name',
  sandbox: 'dockside.dev/sandbox',
  owner: 'dockside.dev/owner',
  workshop: 'dockside.dev/workshop',
} as const;

/** What an idle sandbox takes (measured: about 128 MB with its engine up, native runtime): the scheduler's request. */
const IDLE_MEMORY_REQUEST = 256 * 1024 ** 2;
const IDLE_CPU_REQUEST_MILLI = 100;

type Container = {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number }[];
  resources?: Record<string, Record<string, string>>;
  securityContext?: { privileged?: boolean; allowPrivilegeEscalation?: boolean };
  [k: string]: unknown;
};
type Volume = {
  name: string;
  secret?: { secretName: string };
  emptyDir?: { sizeLimit?: string };
  [k: string]: unknown;
};
export type PodSpec = {
  containers: Container[];
  volumes?: Volume[];
  hostUsers?: boolean;
  runtimeClassName?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  [k: string]: unknown;
};
export type PodTemplate = K8sObject & {
  template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
};
export type SandboxPod = K8sObject & {
  metadata: K8sObject['metadata'] & { labels: Record<string, string> };
  spec: PodSpec;
};

export const podName = (sandboxId: string) => `sandbox-${sandboxId}`;
export const secretName = (sandboxId: string) => `sandbox-${sandboxId}-agent`;

const mib = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024 ** 2))}Mi`;

/** Label values: 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(v: string): string {
  return (
    v
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 63)
      .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'none'
  );
}

/** Refuses a template that would make a pod able to reach the node: the overlays never do. */
export function checkTemplate(t: PodTemplate): void {
  const spec = t.template?.spec;
  const sandbox = spec?.containers?.find((c) => c.name === SANDBOX_CONTAINER);
  const where = `the pod template ${t.metadata.namespace}/${t.metadata.name}`;
  if (!sandbox) throw new Error(`${where} has no container named "${SANDBOX_CONTAINER}"`);
  if (!sandbox.ports?.some((p) => p.name === AGENT_PORT_NAME))
    throw new Error(`${where}: the sandbox container has no port named "${AGENT_PORT_NAME}"`);
  if (spec.containers.some((c) => c.securityContext?.privileged))
    throw new Error(`${where} makes privileged pods: use overlays/userns or overlays/sysbox`);
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC)
    throw new Error(`${where} shares the node's namespaces: use overlays/userns or overlays/sysbox`);
  if (spec.hostUsers !== false && !spec.runtimeClassName)
    throw new Error(`${where} runs sandboxes neither in a user namespace nor under a runtime class like Sysbox`);
}

export function agentPort(t: PodTemplate): number {
  return t.template.spec.containers
    .find((c) => c.name === SANDBOX_CONTAINER)!
    .ports!.find((p) => p.name === AGENT_PORT_NAME)!.containerPort;
}

/**
 * The pod for one sandbox. Kubernetes limits memory, CPU and ephemeral storage per container; it has no
 * per-pod process limit (the node's kubelet --pod-max-pids holds every pod), so `limits.pids` is not in
 * the spec: docs/kubernetes.md says what an operator sets instead.
 */
export function sandboxPod(
  t: PodTemplate,
  opts: { sandboxId: string; limits: SandboxLimits; labels?: Record<string, string> },
): SandboxPod {
  checkTemplate(t);
  const { sandboxId, limits } = opts;
  const spec = structuredClone(t.template.spec);
  const disk = mib(limits.diskBytes);
  for (const c of spec.containers) {
    if (c.name !== SANDBOX_CONTAINER) continue;
    c.resources = {
      requests: {
        memory: mib(Math.min(IDLE_MEMORY_REQUEST, limits.memoryBytes)),
        cpu: `${Math.min(IDLE_CPU_REQUEST_MILLI, Math.round(limits.cpus * 1000))}m`,
        'ephemeral-storage': mib(Math.min(limits.diskBytes, 1024 ** 3)),
      },
      limits: {
        memory: mib(limits.memoryBytes),
        cpu: `${Math.round(limits.cpus * 1000)}m`,
        'ephemeral-storage': disk,
      },
    };
  }
  for (const v of spec.volumes ?? []) {
    if (v.secret) v.secret = { ...v.secret, secretName: secretName(sandboxId) };
    if (v.emptyDir) v.emptyDir = { ...v.emptyDir, sizeLimit: disk };
  }
  const meta = t.template.metadata ?? {};
  const pod: SandboxPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(sandboxId),
      namespace: t.metadata.namespace,
      labels: {
        ...meta.labels,
        ...Object.fromEntries(Object.entries(opts.labels ?? {}).map(([k, v]) => [k, labelValue(v)])),
        [LABELS.sandbox]: sandboxId,
      },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
    },
    spec,
  };
  validateObject(pod);
  return pod;
}
