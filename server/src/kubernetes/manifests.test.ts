// deploy/kubernetes/ as an operator applies it (`kubectl apply -k overlays/<variant>`): every object valid
// against the Kubernetes OpenAPI schemas, and the properties the design rests on hold.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type K8sObject, MANIFESTS_DIR, renderKustomization, strategicMerge } from './kustomize';
import { validateObject } from './validate';

const VARIANTS = ['userns', 'sysbox'] as const;
const render = (variant: string) => renderKustomization(path.join(MANIFESTS_DIR, 'overlays', variant));

type Labels = Record<string, string>;
type Container = {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  securityContext?: { privileged?: boolean; capabilities?: { add?: string[] }; procMount?: string };
};
type PodSpec = { containers: Container[]; hostUsers?: boolean; runtimeClassName?: string; hostNetwork?: boolean };

const find = (objects: K8sObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o as K8sObject & Record<string, unknown>;
};
const sandboxTemplate = (objects: K8sObject[]) =>
  find(objects, 'PodTemplate', 'dockside-sandbox').template as { metadata: { labels: Labels }; spec: PodSpec };
const deploymentPod = (objects: K8sObject[], name: string) =>
  (find(objects, 'Deployment', name).spec as { template: { metadata: { labels: Labels }; spec: PodSpec } }).template;
const selects = (selector: { matchLabels?: Labels }, labels: Labels) =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

describe.each(VARIANTS)('the %s variant', (variant) => {
  const objects = render(variant);

  it('renders objects the Kubernetes schemas accept', () => {
    expect(objects.length).toBeGreaterThan(15);
    for (const o of objects) validateObject(o);
  });

  it('makes sandbox pods that are never privileged nor on the node’s namespaces', () => {
    const { spec } = sandboxTemplate(objects);
    for (const c of spec.containers) expect(c.securityContext?.privileged ?? false).toBe(false);
    expect(spec.hostNetwork ?? false).toBe(false);
    if (variant === 'userns') {
      expect(spec.hostUsers).toBe(false);
      const sc = spec.containers[0]!.securityContext!;
      expect(sc.procMount).toBe('Unmasked');
      expect(sc.capabilities?.add?.sort()).toEqual(['NET_ADMIN', 'SYS_ADMIN']);
      // `privileged` Pod Security in the namespace is held to user namespaces by an admission policy.
      const policy = find(objects, 'ValidatingAdmissionPolicy', 'dockside-sandbox-user-namespace');
      expect(JSON.stringify(policy.spec)).toContain('object.spec.hostUsers == false');
      expect(
        find(objects, 'Namespace', 'dockside-sandboxes').metadata.labels!['pod-security.kubernetes.io/enforce'],
      ).toBe('privileged');
    } else {
      expect(spec.runtimeClassName).toBe('sysbox-runc');
      expect(find(objects, 'RuntimeClass', 'sysbox-runc').handler).toBe('sysbox-runc');
      expect(spec.containers[0]!.securityContext?.capabilities?.add ?? []).toEqual([]);
      expect(
        find(objects, 'Namespace', 'dockside-sandboxes').metadata.labels!['pod-security.kubernetes.io/enforce'],
      ).toBe('baseline');
    }
  });

  it('gives the server rights in the sandbox namespace only, and no exec', () => {
    expect(objects.filter((o) => /^Cluster/.test(o.kind))).toEqual([]);
    const role = find(objects, 'Role', 'dockside-sandbox-manager');
    expect(role.metadata.namespace).toBe('dockside-sandboxes');
    const rules = role.rules as unknown as { resources: string[]; verbs: string[] }[];
    const resources = rules.flatMap((r) => r.resources);
    expect(resources).not.toContain('pods/exec');
    expect(resources).not.toContain('*');
    expect(rules.flatMap((r) => r.verbs)).not.toContain('*');
    const binding = find(objects, 'RoleBinding', 'dockside-sandbox-manager');
    const subject = (binding.subjects as unknown as { name: string; namespace: string }[])[0]!;
    expect(deploymentPod(objects, 'dockside-server').spec).toMatchObject({ serviceAccountName: subject.name });
    expect(find(objects, 'ServiceAccount', subject.name).metadata.namespace).toBe(subject.namespace);
  });

  it('lets only the server’s pods reach a sandbox, on the agent’s port, and sandboxes only the registry, proxy and DNS', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'dockside-sandboxes');
    const deny = policies.find((p) => JSON.stringify((p.spec as { podSelector: object }).podSelector) === '{}')!;
    expect((deny.spec as { policyTypes: string[] }).policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect((deny.spec as { ingress?: unknown }).ingress).toBeUndefined();

    const sandbox = sandboxTemplate(objects);
    const agentPort = sandbox.spec.containers[0]!.ports!.find((p) => p.name === 'agent')!.containerPort;
    type Peer = { namespaceSelector: { matchLabels: Labels }; podSelector: { matchLabels: Labels } };
    type Rule = { from?: Peer[]; to?: Peer[]; ports: { port: number }[] };
    const ingress = policies.flatMap((p) => {
      const spec = p.spec as { podSelector: { matchLabels?: Labels }; ingress?: Rule[] };
      return selects(spec.podSelector, sandbox.metadata.labels) ? (spec.ingress ?? []) : [];
    });
    expect(ingress).toHaveLength(1);
    expect(ingress[0]!.ports.map((p) => p.port)).toEqual([agentPort]);
    expect(ingress[0]!.from).toHaveLength(1);
    expect(selects(ingress[0]!.from![0]!.podSelector, deploymentPod(objects, 'dockside-server').metadata.labels)).toBe(
      true,
    );

    const egress = policies.flatMap((p) => {
      const spec = p.spec as { podSelector: { matchLabels?: Labels }; egress?: Rule[] };
      return selects(spec.podSelector, sandbox.metadata.labels) ? (spec.egress ?? []) : [];
    });
    const reached = egress.map((r) => ({
      to: r.to![0]!.podSelector.matchLabels['app.kubernetes.io/name'] ?? r.to![0]!.podSelector.matchLabels['k8s-app'],
      ports: r.ports.map((p) => p.port),
    }));
    expect(reached).toEqual([
      { to: 'dockside-registry', ports: [5000] },
      { to: 'dockside-egress', ports: [3128] },
      { to: 'kube-dns', ports: [53, 53] },
    ]);
    // The selectors name pods that exist, on the ports they listen on.
    for (const [name, port] of [
      ['dockside-registry', 5000],
      ['dockside-egress', 3128],
    ] as const) {
      const pod = deploymentPod(objects, name);
      expect(pod.metadata.labels['app.kubernetes.io/name']).toBe(name);
      expect(pod.spec.containers[0]!.ports!.map((p) => p.containerPort)).toContain(port);
    }
  });

  it('runs several server replicas on PostgreSQL given by a Secret', () => {
    const server = find(objects, 'Deployment', 'dockside-server');
    expect((server.spec as { replicas: number }).replicas).toBeGreaterThan(1);
    const env = (
      deploymentPod(objects, 'dockside-server').spec.containers[0] as unknown as {
        env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string } } }[];
      }
    ).env;
    expect(env.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef.name).toBe('dockside-database');
    expect(env.find((e) => e.name === 'DOCKSIDE_RUNTIME')?.value).toBe('kubernetes');
  });
});

describe('the renderer', () => {
  it('refuses kustomize features it does not render, and patches that match nothing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kustomize-'));
    writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: []\nnamePrefix: x-\n');
    expect(() => renderKustomization(dir)).toThrow(/"namePrefix" is a kustomize feature/);
    writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: []\npatches:\n  - path: p.yaml\n');
    writeFileSync(path.join(dir, 'p.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: nope\n');
    expect(() => renderKustomization(dir)).toThrow(/matches no object/);
  });

  it('merges containers by name and replaces other lists, as strategic merge patches do', () => {
    const merged = strategicMerge(
      { spec: { containers: [{ name: 'a', image: 'x', args: ['1'] }, { name: 'b' }] } },
      { spec: { containers: [{ name: 'a', args: ['2'] }, { name: 'c' }] } },
    );
    expect(merged).toEqual({
      spec: { containers: [{ name: 'a', image: 'x', args: ['2'] }, { name: 'b' }, { name: 'c' }] },
    });
  });

  it('has a validator that refuses what the API server would', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 7 }] } };
    expect(() => validateObject(pod as unknown as K8sObject)).toThrow(/Pod \/p: .*name must be string/);
  });
});
