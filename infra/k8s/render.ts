/**
 * An offline renderer for the subset of kustomize our kustomizations use, so
 * the manifest test needs no kustomize binary (CI's container has none). It
 * throws on any kustomization field it does not implement, so a new feature
 * in a kustomization fails the test instead of being silently ignored; where
 * `kubectl` is on PATH, the test also compares its output with
 * `kubectl kustomize`.
 *
 * Implemented: resources (files and kustomization folders), namespace,
 * labels (pairs; includeSelectors false; includeTemplates: pod templates and
 * volumeClaimTemplates), images (newName,
 * newTag, digest), patches (strategic merge from a file: maps merge, lists of
 * named items merge by name, other lists are replaced; `$patch: delete`),
 * secretGenerator/configMapGenerator with `envs`/`literals` and
 * generatorOptions.disableNameSuffixHash: true.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

type Json = unknown;
type Obj = Record<string, Json>;

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'images',
  'patches',
  'secretGenerator',
  'configMapGenerator',
  'generatorOptions',
]);

/** Kinds that are not namespaced (the namespace transformer skips them). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass', 'PersistentVolume', 'IngressClass', 'PriorityClass']);
/** Kinds whose pod template gets `labels` when includeTemplates is set. */
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads every YAML document of a file (empty documents dropped). */
export function readYamlDocs(file: string): Json[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  return docs
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS({ maxAliasCount: 100 }) as Json;
    })
    .filter((d) => d !== null && d !== undefined);
}

function asObject(doc: Json, where: string): K8sObject {
  if (!isObj(doc) || typeof doc.kind !== 'string' || typeof doc.apiVersion !== 'string' || !isObj(doc.metadata) || typeof doc.metadata.name !== 'string') {
    throw new Error(`${where}: not a Kubernetes object with apiVersion, kind and metadata.name`);
  }
  return doc as K8sObject;
}

/** Strategic merge patch (the part of it our patches use). */
export function strategicMerge(base: Json, patch: Json): Json {
  if (isObj(base) && isObj(patch)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (k === '$patch') continue;
      if (v === null) delete out[k];
      else if (k in out) out[k] = strategicMerge(out[k], v);
      else out[k] = stripDirectives(v);
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (xs: Json[]) => xs.length > 0 && xs.every((x) => isObj(x) && typeof x.name === 'string');
    if (named(base) && named(patch)) {
      const out = base.map((x) => x as Obj);
      for (const p of patch as Obj[]) {
        const i = out.findIndex((x) => x.name === p.name);
        if (p.$patch === 'delete') {
          if (i >= 0) out.splice(i, 1);
        } else if (i >= 0) out[i] = strategicMerge(out[i], p) as Obj;
        else out.push(stripDirectives(p) as Obj);
      }
      return out;
    }
    return stripDirectives(patch);
  }
  return stripDirectives(patch);
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).filter(([k]) => k !== '$patch').map(([k, x]) => [k, stripDirectives(x)]));
  return v;
}

function parseEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${file}: "${line}" is not KEY=value`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export interface RenderOptions {
  /**
   * Replaces a file a generator reads (absolute path → absolute path): the
   * test renders the production overlay with secrets.env.example in place of
   * the gitignored secrets.env.
   */
  fileOverrides?: Record<string, string>;
}

function generated(kind: 'Secret' | 'ConfigMap', spec: Obj, dir: string, opts: RenderOptions): K8sObject {
  const known = new Set(['name', 'envs', 'literals', 'type', 'behavior', 'namespace']);
  for (const k of Object.keys(spec)) if (!known.has(k)) throw new Error(`${dir}: generator field "${k}" is not supported by render.ts`);
  if (spec.behavior !== undefined && spec.behavior !== 'create') throw new Error(`${dir}: generator behavior "${String(spec.behavior)}" is not supported`);
  const data: Record<string, string> = {};
  for (const f of (spec.envs as string[] | undefined) ?? []) {
    const file = path.resolve(dir, f);
    const use = opts.fileOverrides?.[file] ?? file;
    if (!fs.existsSync(use)) throw new Error(`${file} does not exist (the overlay's secret file; see its .example)`);
    Object.assign(data, parseEnvFile(use));
  }
  for (const lit of (spec.literals as string[] | undefined) ?? []) {
    const eq = lit.indexOf('=');
    data[lit.slice(0, eq)] = lit.slice(eq + 1);
  }
  const obj: K8sObject = { apiVersion: 'v1', kind, metadata: { name: String(spec.name) } };
  if (kind === 'Secret') {
    obj.type = (spec.type as string | undefined) ?? 'Opaque';
    obj.data = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  } else {
    obj.data = data;
  }
  return obj;
}

function setImage(container: Obj, images: Obj[]): void {
  const image = String(container.image ?? '');
  const m = /^(.*?)(?::([^:/@]+))?(?:@(.+))?$/.exec(image);
  const name = m?.[1] ?? image;
  const rule = images.find((i) => i.name === name);
  if (!rule) return;
  let out = typeof rule.newName === 'string' ? rule.newName : name;
  if (typeof rule.digest === 'string') out += `@${rule.digest}`;
  else if (rule.newTag !== undefined) out += `:${String(rule.newTag)}`;
  else if (m?.[2]) out += `:${m[2]}`;
  container.image = out;
}

function podSpecs(obj: K8sObject): Obj[] {
  const spec = obj.spec as Obj | undefined;
  const tmpl = spec && isObj(spec.template) ? (spec.template as Obj) : undefined;
  if (tmpl && isObj(tmpl.spec)) return [tmpl.spec as Obj];
  if (obj.kind === 'Pod' && spec) return [spec];
  return [];
}

/** Renders the kustomization in `dir` into a list of objects. */
export function renderKustomization(dir: string, opts: RenderOptions = {}): K8sObject[] {
  const kfile = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!kfile) throw new Error(`${dir}: no kustomization.yaml`);
  const k = readYamlDocs(kfile)[0] as Obj;
  for (const key of Object.keys(k)) if (!SUPPORTED.has(key)) throw new Error(`${kfile}: field "${key}" is not supported by render.ts`);

  let objects: K8sObject[] = [];
  for (const r of (k.resources as string[] | undefined) ?? []) {
    const p = path.resolve(dir, r);
    if (fs.statSync(p).isDirectory()) objects.push(...renderKustomization(p, opts));
    else objects.push(...readYamlDocs(p).map((d, i) => asObject(d, `${p}#${i}`)));
  }

  const genOpts = (k.generatorOptions as Obj | undefined) ?? {};
  const gens = [...((k.secretGenerator as Obj[] | undefined) ?? []).map((g) => ['Secret', g] as const), ...((k.configMapGenerator as Obj[] | undefined) ?? []).map((g) => ['ConfigMap', g] as const)];
  if (gens.length > 0 && genOpts.disableNameSuffixHash !== true) {
    throw new Error(`${kfile}: generators need generatorOptions.disableNameSuffixHash: true (render.ts does not rewrite hashed names)`);
  }
  for (const [kind, g] of gens) objects.push(generated(kind, g, dir, opts));

  for (const p of (k.patches as Obj[] | undefined) ?? []) {
    const known = new Set(['path']);
    for (const key of Object.keys(p)) if (!known.has(key)) throw new Error(`${kfile}: patch field "${key}" is not supported by render.ts`);
    const file = path.resolve(dir, String(p.path));
    for (const [i, doc] of readYamlDocs(file).entries()) {
      const patch = asObject(doc, `${file}#${i}`);
      const idx = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (idx < 0) throw new Error(`${file}#${i}: no ${patch.kind} ${patch.metadata.name} to patch`);
      objects[idx] = strategicMerge(objects[idx], patch) as K8sObject;
    }
  }

  for (const l of (k.labels as Obj[] | undefined) ?? []) {
    if (l.includeSelectors === true) throw new Error(`${kfile}: labels.includeSelectors is not supported by render.ts`);
    const pairs = (l.pairs as Record<string, string> | undefined) ?? {};
    objects = objects.map((o) => {
      const c = structuredClone(o);
      c.metadata.labels = { ...(c.metadata.labels ?? {}), ...pairs };
      if (l.includeTemplates === true && WORKLOADS.has(c.kind)) {
        const t = (c.spec as Obj).template as Obj;
        const md = ((t.metadata as Obj | undefined) ?? {}) as Obj;
        md.labels = { ...((md.labels as Record<string, string> | undefined) ?? {}), ...pairs };
        t.metadata = md;
        for (const vct of ((c.spec as Obj).volumeClaimTemplates as Obj[] | undefined) ?? []) {
          const vmd = ((vct.metadata as Obj | undefined) ?? {}) as Obj;
          vmd.labels = { ...((vmd.labels as Record<string, string> | undefined) ?? {}), ...pairs };
          vct.metadata = vmd;
        }
      }
      return c;
    });
  }

  const images = (k.images as Obj[] | undefined) ?? [];
  if (images.length > 0) {
    for (const o of objects) {
      for (const ps of podSpecs(o)) {
        for (const c of [...((ps.containers as Obj[] | undefined) ?? []), ...((ps.initContainers as Obj[] | undefined) ?? [])]) setImage(c, images);
      }
    }
  }

  if (typeof k.namespace === 'string') {
    const ns = k.namespace;
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } }));
  }
  return objects;
}
