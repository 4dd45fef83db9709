// Renders deploy/kubernetes/ as `kubectl apply -k` would, for the part of kustomize the manifests use:
// `resources` (files and directories), `patches` with a `path` (strategic merge patches, matched by
// apiVersion, kind, name and namespace) and `images`. kustomize itself cannot be installed here (no
// binary, no npm package), so this is what tests and the fake cluster render; a kustomization using
// anything else is refused, so what an operator applies cannot drift from what is validated.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../paths';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
};

type Kustomization = {
  resources?: string[];
  patches?: { path: string }[];
  images?: { name: string; newName?: string; newTag?: string }[];
};

const KNOWN_KEYS = new Set(['apiVersion', 'kind', 'resources', 'patches', 'images']);

/** Lists merged element by element, by this key, as Kubernetes' strategic merge patch does for them. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
};

function readDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    const value: unknown = d.toJS();
    return value === null ? [] : [value];
  });
}

function readYaml(file: string): K8sObject[] {
  return readDocuments(file).map((value) => {
    const o = value as K8sObject;
    if (!o.apiVersion || !o.kind || !o.metadata?.name)
      throw new Error(`${file}: every object needs apiVersion, kind and metadata.name`);
    return o;
  });
}

const identity = (o: K8sObject) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge: maps merge, `null` removes a key, lists with a merge key merge by it, others are replaced. */
export function strategicMerge(target: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch) && Array.isArray(target) && MERGE_KEYS[field]) {
    const key = MERGE_KEYS[field]!;
    const out = target.map((t) => structuredClone(t) as Record<string, unknown>);
    for (const p of patch as Record<string, unknown>[]) {
      const at = out.findIndex((t) => t[key] === p[key]);
      if (at >= 0) out[at] = strategicMerge(out[at], p) as Record<string, unknown>;
      else out.push(structuredClone(p));
    }
    return out;
  }
  if (!isMap(patch) || !isMap(target)) return structuredClone(patch);
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = k in target ? strategicMerge(target[k], v, k) : structuredClone(v);
  }
  return out;
}

function podSpecs(o: K8sObject): Record<string, unknown>[] {
  const spec = o.spec as Record<string, unknown> | undefined;
  if (o.kind === 'Pod' && spec) return [spec];
  const template = (o.kind === 'PodTemplate' ? o.template : spec?.template) as { spec?: Record<string, unknown> };
  return template?.spec ? [template.spec] : [];
}

function setImages(objects: K8sObject[], images: NonNullable<Kustomization['images']>): void {
  for (const spec of objects.flatMap(podSpecs))
    for (const c of [...((spec.containers ?? []) as { image?: string }[]), ...((spec.initContainers ?? []) as [])]) {
      if (!c.image) continue;
      const [, name = c.image, tag] = /^(.+?)(?::([^:/]+))?$/.exec(c.image) ?? [];
      const rule = images.find((i) => i.name === name);
      if (rule) c.image = `${rule.newName ?? name}:${rule.newTag ?? tag ?? 'latest'}`;
    }
}

/** The objects `kubectl apply -k dir` would send, in the order the kustomizations list them. */
export function renderKustomization(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const [k = {}] = readDocuments(file) as (Kustomization & Record<string, unknown>)[];
  for (const key of Object.keys(k))
    if (!KNOWN_KEYS.has(key)) throw new Error(`${file}: "${key}" is a kustomize feature this renderer does not render`);
  const objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const at = path.resolve(dir, r);
    objects.push(...(statSync(at).isDirectory() ? renderKustomization(at) : readYaml(at)));
  }
  for (const p of k.patches ?? []) {
    if (Object.keys(p).join() !== 'path') throw new Error(`${file}: only patches with a path alone are rendered`);
    for (const patch of readYaml(path.resolve(dir, p.path))) {
      const at = objects.findIndex((o) => identity(o) === identity(patch));
      if (at < 0) throw new Error(`${file}: the patch ${p.path} matches no object (${identity(patch)})`);
      objects[at] = strategicMerge(objects[at], patch) as K8sObject;
    }
  }
  const seen = new Set<string>();
  for (const o of objects) {
    if (seen.has(identity(o))) throw new Error(`${file}: ${identity(o)} is defined twice`);
    seen.add(identity(o));
  }
  if (k.images) setImages(objects, k.images);
  return objects;
}

/** The deploy/kubernetes directory of this checkout. */
export const MANIFESTS_DIR = path.join(REPO_ROOT, 'deploy', 'kubernetes');
