// The pod the driver sends for a sandbox: made from the PodTemplate an operator applies (each overlay),
// valid against the Pod schema, with the sandbox's limits and secret, and never from a template that
// would let a pod reach its node.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { podReadiness, quantity } from './kubernetesRuntime';
import { MANIFESTS_DIR, renderKustomization } from './kustomize';
import { LABELS, type PodTemplate, sandboxPod, secretName } from './podSpec';

const template = (variant: string) =>
  renderKustomization(path.join(MANIFESTS_DIR, 'overlays', variant)).find(
    (o) => o.kind === 'PodTemplate',
  ) as PodTemplate;
const LIMITS = { memoryBytes: 1024 ** 3, pids: 2048, cpus: 1.5, diskBytes: 8 * 1024 ** 3 };

describe.each(['userns', 'sysbox'])('a sandbox pod from the %s template', (variant) => {
  const pod = sandboxPod(template(variant), {
    sandboxId: 'sb-abc-1',
    limits: LIMITS,
    labels: { [LABELS.owner]: 'ann@x' },
  });
  const sandbox = pod.spec.containers[0]!;

  it('carries the sandbox’s limits: memory, CPU, and its disk as ephemeral storage and a sized volume', () => {
    expect(sandbox.resources!.limits).toEqual({ memory: '1024Mi', cpu: '1500m', 'ephemeral-storage': '8192Mi' });
    expect(quantity(sandbox.resources!.limits!.memory)).toBe(LIMITS.memoryBytes);
    expect(pod.spec.volumes!.find((v) => v.emptyDir)!.emptyDir!.sizeLimit).toBe('8192Mi');
    // The scheduler is asked for what an idle sandbox takes, not its ceiling.
    expect(quantity(sandbox.resources!.requests!.memory)).toBeLessThan(LIMITS.memoryBytes);
  });

  it('is labelled with its sandbox and owner, and mounts its own agent secret', () => {
    expect(pod.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'dockside-sandbox',
      [LABELS.sandbox]: 'sb-abc-1',
      [LABELS.owner]: 'ann_x',
    });
    expect(pod.spec.volumes!.find((v) => v.secret)!.secret!.secretName).toBe(secretName('sb-abc-1'));
  });

  it('keeps the variant’s isolation', () => {
    if (variant === 'userns') expect(pod.spec.hostUsers).toBe(false);
    else expect(pod.spec.runtimeClassName).toBe('sysbox-runc');
  });
});

describe('templates the driver refuses', () => {
  it('refuses a privileged pod, the node’s namespaces, and no isolation at all', () => {
    const t = template('userns');
    const privileged = structuredClone(t);
    privileged.template.spec.containers[0]!.securityContext = { privileged: true };
    expect(() => sandboxPod(privileged, { sandboxId: 'x', limits: LIMITS })).toThrow(/makes privileged pods/);
    const hostNet = structuredClone(t);
    hostNet.template.spec.hostNetwork = true;
    expect(() => sandboxPod(hostNet, { sandboxId: 'x', limits: LIMITS })).toThrow(/shares the node's namespaces/);
    const base = renderKustomization(path.join(MANIFESTS_DIR, 'base')).find((o) => o.kind === 'PodTemplate');
    expect(() => sandboxPod(base as PodTemplate, { sandboxId: 'x', limits: LIMITS })).toThrow(
      /neither in a user namespace nor under a runtime class/,
    );
  });
});

describe('what a pod’s status means to a learner', () => {
  it('reads Unschedulable, image pull failures and readiness', () => {
    expect(
      podReadiness({
        metadata: { name: 'p' },
        status: {
          conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes' }],
        },
      }),
    ).toMatchObject({ message: 'the cluster has no room for another sandbox (0/2 nodes)' });
    expect(
      podReadiness({
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'sandbox', image: 'r/sb:1' }] },
        status: {
          containerStatuses: [
            { name: 'sandbox', state: { waiting: { reason: 'ImagePullBackOff', message: 'back-off' } } },
          ],
        },
      }),
    ).toMatchObject({ message: 'the cluster cannot pull r/sb:1 (back-off)' });
    expect(
      podReadiness({
        metadata: { name: 'p' },
        status: { phase: 'Running', podIP: '10.0.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
      }),
    ).toBe('ready');
    expect(podReadiness({ metadata: { name: 'p' }, status: { phase: 'Pending' } })).toBeUndefined();
  });
});
