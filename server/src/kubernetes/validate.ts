// Validates Kubernetes objects against the API's OpenAPI schemas, as kubernetes-models generates them:
// the manifests operators apply (manifests.test.ts) and every pod the driver is about to create.
import * as models from 'kubernetes-models';
import type { K8sObject } from './kustomize';

type Model = new (data: unknown) => { validate(): void };

/** apiVersion's group → kubernetes-models' namespace for it. */
const GROUPS: Record<string, Record<string, Record<string, unknown>>> = {
  '': models.v1 as never,
  apps: models.apps,
  'rbac.authorization.k8s.io': models.rbacAuthorizationK8sIo,
  'networking.k8s.io': models.networkingK8sIo,
  'node.k8s.io': models.nodeK8sIo,
  'admissionregistration.k8s.io': models.admissionregistrationK8sIo,
  'scheduling.k8s.io': models.schedulingK8sIo,
  policy: models.policy,
};

function modelFor(apiVersion: string, kind: string): Model {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const ns = group === '' ? (GROUPS['']! as unknown as Record<string, unknown>) : GROUPS[group!]?.[version!];
  const model = (ns as Record<string, unknown> | undefined)?.[kind];
  if (typeof model !== 'function') throw new Error(`no schema for ${apiVersion} ${kind}`);
  return model as Model;
}

/** Throws, naming the object and the first field the schema refuses. */
export function validateObject(o: K8sObject): void {
  const Model = modelFor(o.apiVersion, o.kind);
  try {
    new Model(o).validate();
  } catch (e) {
    throw new Error(`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${(e as Error).message}`);
  }
}
