/**
 * The rules kustomize's output must meet (infra/k8s/manifests.test.ts runs
 * them on the base and the overlays, and on broken copies to prove they catch
 * what they claim). Each check returns problems as strings; none means the
 * manifests pass. Our policy, not Kubernetes': the schemas are checked too,
 * by {@link validateSchemas}.
 */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import type { Deployable } from '../docker/deployables.js';
import { WEB_SERVER_ENV, WORKER_HEALTH_ENV } from '../docker/deployables.js';
import { dependencyClosure, findRepoRoot } from '../build/bundle.js';
import type { K8sObject } from './kustomize.js';

type Obj = Record<string, unknown>;

/** What one deployable must find in its environment. */
export interface Expectation {
  deployable: Deployable;
  /** Variable names its code reads: the config shape's keys and every `process.env.X` in its bundle's sources. */
  env: string[];
}

const get = (o: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), o);

/**
 * Names read as `process.env.NAME` / `process.env['NAME']` in the non-test
 * sources of a workspace package and the `@rental/*` packages it depends on
 * (what the bundle of that package contains).
 */
export function envReadInSources(workspaceDir: string): string[] {
  const root = findRepoRoot(workspaceDir);
  const { workspace } = dependencyClosure(workspaceDir, root);
  const dirs = [workspaceDir, ...[...workspace].map((n) => fs.realpathSync(path.join(root, 'node_modules', n)))];
  const names = new Set<string>();
  const isTestFile = (f: string) => /\.test\.ts$|(^|\/)(testing|test-support|test-fixtures|ws-fixtures)\.ts$/.test(f);
  for (const dir of dirs) {
    const src = path.join(dir, 'src');
    if (!fs.existsSync(src)) continue;
    for (const rel of fs.readdirSync(src, { recursive: true }) as string[]) {
      const file = path.join(src, rel);
      if (!/\.tsx?$/.test(rel) || isTestFile(rel) || !fs.statSync(file).isFile()) continue;
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g)) names.add((m[1] ?? m[2]) as string);
    }
  }
  return [...names].sort();
}

type Shape = Record<string, unknown>;

/** Loads the zod config shape a deployable's code parses its environment with (none for web). */
export async function loadShape(d: Deployable, root: string): Promise<Shape | undefined> {
  if (!d.configModule || !d.configExport) return undefined;
  const mod = (await import(path.join(root, d.configModule))) as Record<string, Shape>;
  const shape = mod[d.configExport];
  if (!shape) throw new Error(`${d.configModule} does not export ${d.configExport}`);
  return shape;
}

/** The variables a deployable reads: shape keys plus direct process.env reads. */
export function expectedEnv(d: Deployable, shapeKeys: string[] | undefined, root: string): string[] {
  if (d.kind === 'web') return [...WEB_SERVER_ENV];
  return [...new Set([...(shapeKeys ?? []), ...envReadInSources(path.join(root, d.workspace))])].sort();
}

/** Validates every object against the Kubernetes OpenAPI schemas (kubernetes-models). */
export async function validateSchemas(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata.name}`;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(`kubernetes-models/${o.apiVersion}`)) as Record<string, unknown>;
    } catch {
      problems.push(`${where}: unknown apiVersion ${o.apiVersion}`);
      continue;
    }
    const Model = mod[o.kind] as (new (data: unknown) => { validate(): void }) | undefined;
    if (!Model) {
      problems.push(`${where}: ${o.apiVersion} has no kind ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

function selects(selector: unknown, labels: Record<string, string>): boolean {
  const match = (get(selector, 'matchLabels') ?? selector) as Record<string, string> | undefined;
  if (!match || Object.keys(match).length === 0) return false;
  return Object.entries(match).every(([k, v]) => labels[k] === v);
}

function probeProblems(name: string, c: Obj, d: Deployable): string[] {
  const kind = d.kind === 'worker' && !d.healthPort ? 'worker' : 'http';
  const p: string[] = [];
  for (const [probe, pathWanted] of [
    ['readinessProbe', '/readyz'],
    ['livenessProbe', '/healthz'],
  ] as const) {
    const pr = c[probe] as Obj | undefined;
    if (!pr) {
      p.push(`${name}: no ${probe}`);
      continue;
    }
    if (kind === 'worker') {
      // A worker without a health server: an exec probe (documented in docs/DEPLOY.md).
      if (!get(pr, 'exec', 'command') && !get(pr, 'httpGet')) p.push(`${name}: ${probe} is neither exec nor httpGet`);
      continue;
    }
    if (get(pr, 'httpGet', 'path') !== pathWanted) p.push(`${name}: ${probe} must GET ${pathWanted}`);
    const port = get(pr, 'httpGet', 'port');
    const ports = (c.ports as Obj[] | undefined) ?? [];
    if (!ports.some((x) => x.name === port || x.containerPort === port)) p.push(`${name}: ${probe} port ${String(port)} is not a container port`);
  }
  return p;
}

/** Environment names a container gets, with problems for references that do not resolve. */
function containerEnv(objects: K8sObject[], name: string, c: Obj): { names: Set<string>; problems: string[] } {
  const names = new Set<string>();
  const problems: string[] = [];
  for (const ef of (c.envFrom as Obj[] | undefined) ?? []) {
    const cmName = get(ef, 'configMapRef', 'name') as string | undefined;
    const secName = get(ef, 'secretRef', 'name') as string | undefined;
    const ref = cmName ? find(objects, 'ConfigMap', cmName) : secName ? find(objects, 'Secret', secName) : undefined;
    if (!ref) {
      problems.push(`${name}: envFrom ${cmName ? `ConfigMap ${cmName}` : `Secret ${secName}`} is not among the manifests`);
      continue;
    }
    const data = { ...((ref.data as Obj | undefined) ?? {}), ...((ref.stringData as Obj | undefined) ?? {}) };
    for (const k of Object.keys(data)) names.add(`${(ef.prefix as string | undefined) ?? ''}${k}`);
  }
  for (const e of (c.env as Obj[] | undefined) ?? []) {
    const n = e.name as string;
    const secretRef = get(e, 'valueFrom', 'secretKeyRef') as Obj | undefined;
    const cmRef = get(e, 'valueFrom', 'configMapKeyRef') as Obj | undefined;
    const ref = secretRef ?? cmRef;
    if (ref) {
      const target = find(objects, secretRef ? 'Secret' : 'ConfigMap', ref.name as string);
      const data = { ...((target?.data as Obj | undefined) ?? {}), ...((target?.stringData as Obj | undefined) ?? {}) };
      if (!target) problems.push(`${name}: env ${n} refers to ${secretRef ? 'Secret' : 'ConfigMap'} ${String(ref.name)}, which is not among the manifests`);
      else if (!(String(ref.key) in data)) problems.push(`${name}: env ${n} refers to key ${String(ref.key)} missing from ${String(ref.name)}`);
      else names.add(n);
    } else if ('value' in e || 'valueFrom' in e) {
      names.add(n);
    }
  }
  return { names, problems };
}

/** Workload rules: probes, resources, rollout, security, autoscaler, PDB, Service, settings. */
export function checkWorkloads(objects: K8sObject[], expectations: Expectation[]): string[] {
  const problems: string[] = [];
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const known = new Set(expectations.map((e) => e.deployable.name));
  for (const dep of deployments) if (!known.has(dep.metadata.name)) problems.push(`Deployment ${dep.metadata.name} is not a known deployable`);

  for (const { deployable: d, env } of expectations) {
    const dep = find(objects, 'Deployment', d.name);
    const w = `Deployment ${d.name}`;
    if (!dep) {
      problems.push(`${w} is missing`);
      continue;
    }
    const spec = dep.spec as Obj;
    const podSpec = get(spec, 'template', 'spec') as Obj;
    const podLabels = (get(spec, 'template', 'metadata', 'labels') ?? {}) as Record<string, string>;
    const containers = (podSpec.containers as Obj[] | undefined) ?? [];
    const c = containers.find((x) => x.name === d.name);
    if (!c) {
      problems.push(`${w}: no container named ${d.name}`);
      continue;
    }
    if ('replicas' in spec) problems.push(`${w}: sets spec.replicas; the HorizontalPodAutoscaler owns the count`);
    if (get(spec, 'strategy', 'type') !== 'RollingUpdate' || get(spec, 'strategy', 'rollingUpdate', 'maxUnavailable') !== 0) {
      problems.push(`${w}: strategy must be RollingUpdate with maxUnavailable: 0`);
    }
    const grace = podSpec.terminationGracePeriodSeconds;
    if (typeof grace !== 'number' || grace < 15) problems.push(`${w}: terminationGracePeriodSeconds must be set (>= 15)`);
    const preStop = get(c, 'lifecycle', 'preStop') as Obj | undefined;
    if (!preStop || (!get(preStop, 'exec', 'command') && !get(preStop, 'sleep'))) problems.push(`${w}: no preStop delay before SIGTERM`);

    problems.push(...probeProblems(w, c, d));
    if (d.kind === 'worker' && !d.healthPort && env.includes(WORKER_HEALTH_ENV)) {
      problems.push(`${w}: its code can serve /healthz and /readyz on ${WORKER_HEALTH_ENV}: give it healthPort in infra/docker/deployables.ts and HTTP probes on that port in its manifest`);
    }
    for (const kind of ['requests', 'limits'])
      for (const r of ['cpu', 'memory']) if (get(c, 'resources', kind, r) === undefined) problems.push(`${w}: no resources.${kind}.${r}`);

    const podSec = (podSpec.securityContext ?? {}) as Obj;
    const sec = (c.securityContext ?? {}) as Obj;
    if (sec.runAsNonRoot !== true && podSec.runAsNonRoot !== true) problems.push(`${w}: runAsNonRoot is not set`);
    if (typeof (sec.runAsUser ?? podSec.runAsUser) !== 'number' || (sec.runAsUser ?? podSec.runAsUser) === 0) problems.push(`${w}: needs a numeric non-zero runAsUser (the images' USER is a name)`);
    if (sec.readOnlyRootFilesystem !== true) problems.push(`${w}: readOnlyRootFilesystem is not true`);
    if (sec.allowPrivilegeEscalation !== false) problems.push(`${w}: allowPrivilegeEscalation is not false`);
    if (!((get(sec, 'capabilities', 'drop') as string[] | undefined) ?? []).includes('ALL')) problems.push(`${w}: capabilities.drop does not include ALL`);

    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && get(o, 'spec', 'scaleTargetRef', 'kind') === 'Deployment' && get(o, 'spec', 'scaleTargetRef', 'name') === d.name);
    if (!hpa) problems.push(`${w}: no HorizontalPodAutoscaler targets it`);
    else {
      if (hpa.apiVersion !== 'autoscaling/v2') problems.push(`${w}: its autoscaler is ${hpa.apiVersion}, not autoscaling/v2`);
      const min = get(hpa, 'spec', 'minReplicas') as number | undefined;
      const max = get(hpa, 'spec', 'maxReplicas') as number;
      if (!min || min < 2) problems.push(`${w}: autoscaler minReplicas must be >= 2 (one pod may be evicted or rolling)`);
      if (min && max < min) problems.push(`${w}: autoscaler maxReplicas < minReplicas`);
      if (!((get(hpa, 'spec', 'metrics') as unknown[] | undefined) ?? []).length) problems.push(`${w}: autoscaler has no metrics`);
    }
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && selects(get(o, 'spec', 'selector'), podLabels));
    if (!pdb) problems.push(`${w}: no PodDisruptionBudget selects its pods`);

    if (d.port) {
      const svc = objects.find((o) => o.kind === 'Service' && selects(get(o, 'spec', 'selector'), podLabels));
      if (!svc) problems.push(`${w}: no Service selects its pods`);
      else {
        const ports = (get(svc, 'spec', 'ports') as Obj[] | undefined) ?? [];
        const cports = (c.ports as Obj[] | undefined) ?? [];
        if (!ports.some((p) => cports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort)))
          problems.push(`Service ${svc.metadata.name}: no port targets a port of ${d.name}`);
      }
      if (!((c.ports as Obj[] | undefined) ?? []).some((p) => p.containerPort === d.port)) problems.push(`${w}: does not expose port ${d.port}`);
    }

    const { names, problems: refProblems } = containerEnv(objects, w, c);
    problems.push(...refProblems);
    for (const key of env) if (!names.has(key)) problems.push(`${w}: setting ${key} (read by its code) is in no ConfigMap or Secret it gets`);
  }
  return problems;
}

/** MongoDB and Redis: StatefulSets with claims, headless Services; Redis append-only. */
export function checkDatastores(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const name of ['mongodb', 'redis']) {
    const ss = find(objects, 'StatefulSet', name);
    if (!ss) {
      problems.push(`StatefulSet ${name} is missing`);
      continue;
    }
    const claims = ((get(ss, 'spec', 'volumeClaimTemplates') as Obj[] | undefined) ?? []).map((v) => get(v, 'metadata', 'name'));
    if (claims.length === 0) problems.push(`StatefulSet ${name}: no volumeClaimTemplates`);
    const mounts = ((get(ss, 'spec', 'template', 'spec', 'containers', 0, 'volumeMounts') as Obj[] | undefined) ?? []).map((m) => m.name);
    if (!claims.some((c) => mounts.includes(c))) problems.push(`StatefulSet ${name}: its container mounts none of its claims`);
    const svc = find(objects, 'Service', String(get(ss, 'spec', 'serviceName')));
    if (!svc || get(svc, 'spec', 'clusterIP') !== 'None') problems.push(`StatefulSet ${name}: serviceName is not a headless Service`);
    const c = get(ss, 'spec', 'template', 'spec', 'containers', 0) as Obj;
    if (!c.readinessProbe || !c.livenessProbe) problems.push(`StatefulSet ${name}: needs readiness and liveness probes`);
    if (!get(c, 'resources', 'requests') || !get(c, 'resources', 'limits')) problems.push(`StatefulSet ${name}: needs resource requests and limits`);
  }
  const redisArgs = [...((get(find(objects, 'StatefulSet', 'redis'), 'spec', 'template', 'spec', 'containers', 0, 'command') as string[] | undefined) ?? []), ...((get(find(objects, 'StatefulSet', 'redis'), 'spec', 'template', 'spec', 'containers', 0, 'args') as string[] | undefined) ?? [])];
  const i = redisArgs.indexOf('--appendonly');
  if (i < 0 || redisArgs[i + 1] !== 'yes') problems.push('StatefulSet redis: not started with --appendonly yes');
  return problems;
}

/** The Ingress sends /graphql to the router with WebSocket-friendly timeouts. */
export function checkIngress(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const ing = objects.find((o) => o.kind === 'Ingress');
  if (!ing) return ['no Ingress'];
  const paths = ((get(ing, 'spec', 'rules') as Obj[] | undefined) ?? []).flatMap((r) => (get(r, 'http', 'paths') as Obj[] | undefined) ?? []);
  const gql = paths.find((p) => p.path === '/graphql');
  if (get(gql, 'backend', 'service', 'name') !== 'router') problems.push('Ingress: /graphql does not go to the router Service');
  const a = ing.metadata.annotations ?? {};
  for (const k of ['proxy-read-timeout', 'proxy-send-timeout']) {
    if (Number(a[`nginx.ingress.kubernetes.io/${k}`] ?? 0) < 3600) problems.push(`Ingress: nginx.ingress.kubernetes.io/${k} must be >= 3600 for long-lived WebSockets`);
  }
  if (a['nginx.ingress.kubernetes.io/proxy-http-version'] !== '1.1') problems.push('Ingress: proxy-http-version must be 1.1 (WebSocket upgrade)');
  for (const p of paths) {
    const svc = get(p, 'backend', 'service', 'name') as string;
    if (!find(objects, 'Service', svc)) problems.push(`Ingress: backend Service ${svc} does not exist`);
  }
  return problems;
}

/** Kinds whose objects carry a pod template (`spec.template.spec`). */
const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

/**
 * Every container (init containers too) of every pod template: what the Pod
 * Security Standard "restricted" (enforced in the production namespace)
 * requires of it, and resource requests and limits.
 */
export function checkPods(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects.filter((x) => POD_TEMPLATE_KINDS.has(x.kind))) {
    const podSpec = (get(o, 'spec', 'template', 'spec') ?? {}) as Obj;
    const podSec = (podSpec.securityContext ?? {}) as Obj;
    const containers = [...((podSpec.initContainers as Obj[] | undefined) ?? []), ...((podSpec.containers as Obj[] | undefined) ?? [])];
    for (const c of containers) {
      const w = `${o.kind} ${o.metadata.name}, container ${String(c.name)}`;
      const sec = (c.securityContext ?? {}) as Obj;
      if (sec.runAsNonRoot !== true && podSec.runAsNonRoot !== true) problems.push(`${w}: runAsNonRoot is not set`);
      if (sec.allowPrivilegeEscalation !== false) problems.push(`${w}: allowPrivilegeEscalation is not false`);
      if (!((get(sec, 'capabilities', 'drop') as string[] | undefined) ?? []).includes('ALL')) problems.push(`${w}: capabilities.drop does not include ALL`);
      const seccomp = get(sec, 'seccompProfile', 'type') ?? get(podSec, 'seccompProfile', 'type');
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${w}: no RuntimeDefault seccompProfile`);
      for (const kind of ['requests', 'limits'])
        for (const r of ['cpu', 'memory']) if (get(c, 'resources', kind, r) === undefined) problems.push(`${w}: no resources.${kind}.${r}`);
    }
  }
  return problems;
}

/** The value after `flag` in a container's command and args. */
function flagValue(c: Obj, flag: string): string | undefined {
  const argv = [...((c.command as string[] | undefined) ?? []), ...((c.args as string[] | undefined) ?? [])];
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A Secret's value (data is base64, stringData plain). */
function secretValue(secret: K8sObject | undefined, key: string): string | undefined {
  const plain = get(secret, 'stringData', key);
  if (typeof plain === 'string') return plain;
  const encoded = get(secret, 'data', key);
  return typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
}

/**
 * MongoDB as a replica set of `members` (production): the StatefulSet runs
 * that many with --replSet and a key file; a Job initiates the set with
 * exactly those members; a PodDisruptionBudget keeps a majority up; and the
 * services' MONGODB_URI (parsed by the MongoDB driver itself) lists those
 * members with replicaSet, w=majority and retryWrites.
 */
export function checkMongoReplicaSet(objects: K8sObject[], members = 3): string[] {
  const problems: string[] = [];
  const ss = find(objects, 'StatefulSet', 'mongodb');
  if (!ss) return ['StatefulSet mongodb is missing'];
  const replicas = get(ss, 'spec', 'replicas');
  if (replicas !== members) problems.push(`StatefulSet mongodb: replicas is ${String(replicas)}, not ${members}`);
  const c = ((get(ss, 'spec', 'template', 'spec', 'containers') as Obj[] | undefined) ?? []).find((x) => x.name === 'mongodb') ?? {};
  const replSet = flagValue(c, '--replSet');
  if (!replSet) problems.push('StatefulSet mongodb: not started with --replSet');
  const keyFile = flagValue(c, '--keyFile');
  const mounts = ((c.volumeMounts as Obj[] | undefined) ?? []).map((m) => String(m.mountPath));
  if (!keyFile) problems.push('StatefulSet mongodb: no --keyFile (replica set members with access control must authenticate to each other)');
  else if (!mounts.some((m) => keyFile.startsWith(`${m}/`))) problems.push(`StatefulSet mongodb: --keyFile ${keyFile} is on no volume it mounts`);
  const port = Number(((c.ports as Obj[] | undefined) ?? [])[0]?.containerPort ?? 27017);
  const hosts = Array.from({ length: members }, (_, i) => `mongodb-${i}.${String(get(ss, 'spec', 'serviceName'))}:${String(port)}`);

  const job = objects.find(
    (o) => o.kind === 'Job' && ((get(o, 'spec', 'template', 'spec', 'containers') as Obj[] | undefined) ?? []).some((x) => ((x.env as Obj[] | undefined) ?? []).some((e) => e.name === 'REPLICA_SET')),
  );
  if (!job) problems.push('no Job initiates the replica set (a container with REPLICA_SET in its env)');
  else {
    const jc = ((get(job, 'spec', 'template', 'spec', 'containers') as Obj[] | undefined) ?? []).find((x) => ((x.env as Obj[] | undefined) ?? []).some((e) => e.name === 'REPLICA_SET'))!;
    const env: Record<string, unknown> = Object.fromEntries(((jc.env as Obj[] | undefined) ?? []).map((e) => [String(e.name), e.value]));
    if (env.REPLICA_SET !== replSet) problems.push(`Job ${job.metadata.name}: REPLICA_SET ${String(env.REPLICA_SET)} is not the StatefulSet's --replSet ${String(replSet)}`);
    if (env.MEMBERS !== hosts.join(',')) problems.push(`Job ${job.metadata.name}: MEMBERS ${String(env.MEMBERS)} are not the StatefulSet's pods ${hosts.join(',')}`);
    if (!['OnFailure', 'Never'].includes(String(get(job, 'spec', 'template', 'spec', 'restartPolicy')))) problems.push(`Job ${job.metadata.name}: restartPolicy must be OnFailure or Never`);
    const scripts = ((get(job, 'spec', 'template', 'spec', 'volumes') as Obj[] | undefined) ?? [])
      .map((v) => find(objects, 'ConfigMap', String(get(v, 'configMap', 'name'))))
      .flatMap((cm) => Object.values((cm?.data ?? {}) as Record<string, string>));
    if (!scripts.some((text) => text.includes('rs.initiate('))) problems.push(`Job ${job.metadata.name}: mounts no ConfigMap with a script that calls rs.initiate(`);
  }

  const podLabels = (get(ss, 'spec', 'template', 'metadata', 'labels') ?? {}) as Record<string, string>;
  const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && selects(get(o, 'spec', 'selector'), podLabels));
  const maxUnavailable = get(pdb, 'spec', 'maxUnavailable');
  const minAvailable = get(pdb, 'spec', 'minAvailable');
  if (!pdb) problems.push('StatefulSet mongodb: no PodDisruptionBudget selects its pods');
  else if (!(maxUnavailable === 1 || (typeof minAvailable === 'number' && minAvailable > members / 2)))
    problems.push(`PodDisruptionBudget ${pdb.metadata.name}: must keep a majority of the ${members} members (maxUnavailable: 1)`);

  const uri = secretValue(find(objects, 'Secret', 'rental-secrets'), 'MONGODB_URI');
  if (!uri) problems.push('Secret rental-secrets: no MONGODB_URI');
  else {
    let options: InstanceType<typeof mongoose.mongo.MongoClient>['options'] | undefined;
    try {
      options = new mongoose.mongo.MongoClient(uri).options;
    } catch (err) {
      problems.push(`MONGODB_URI: the MongoDB driver refuses it: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (options) {
      const listed = options.hosts.map(String).sort();
      if (listed.join(',') !== [...hosts].sort().join(',')) problems.push(`MONGODB_URI: lists ${listed.join(',')}, not the members ${hosts.join(',')}`);
      if (options.replicaSet !== replSet) problems.push(`MONGODB_URI: replicaSet is ${String(options.replicaSet)}, not ${String(replSet)}`);
      if (options.writeConcern?.w !== 'majority') problems.push('MONGODB_URI: no w=majority');
      // Said outright: the driver's default (true) is not what the reader of the Secret sees.
      if (new URLSearchParams(uri.split('?')[1] ?? '').get('retryWrites') !== 'true') problems.push('MONGODB_URI: no retryWrites=true');
    }
  }
  return problems;
}
