/**
 * The Kubernetes manifests (infra/k8s) as the real kustomize renders them
 * (kustomize.ts finds it: the one .ci/run pins, `kustomize` or `kubectl`; the
 * test fails, never skips, without one): every object of the base and the
 * overlays is validated against the Kubernetes schemas (kubernetes-models),
 * and our policy (checks.ts) holds: probes, resources, rollout, security, an
 * autoscaler and a PodDisruptionBudget per Deployment, every setting the code
 * reads (its zod config shape, plus direct process.env reads) in a ConfigMap
 * or Secret it gets, the datastores, and in production MongoDB as a
 * three-member replica set. Broken copies prove the checks fail when they
 * should. The CI workflow is checked here too.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEPLOYABLES } from '../docker/deployables.js';
import { checkDatastores, checkIngress, checkMongoReplicaSet, checkPods, checkWorkloads, expectedEnv, loadShape, validateSchemas, type Expectation } from './checks.js';
import { findKustomize, kustomizeBuild, pinnedKustomizeVersion, type K8sObject } from './kustomize.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const kustomize = findKustomize(ROOT);

let tmp: string;
let expectations: Expectation[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-'));
  expectations = [];
  for (const d of DEPLOYABLES) {
    const shape = await loadShape(d, ROOT);
    expectations.push({ deployable: d, env: expectedEnv(d, shape ? Object.keys(shape) : undefined, ROOT) });
  }
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A copy of infra/k8s to render: never with the real (gitignored) secret
 * files, each overlay's secrets.env.example standing in for its secrets.env.
 */
function copyOfManifests(edit: (dir: string) => void = () => {}): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'copy-'));
  fs.cpSync(HERE, dir, { recursive: true, filter: (src) => !src.endsWith('secrets.env') && !src.endsWith('.ts') });
  for (const overlay of fs.readdirSync(path.join(dir, 'overlays'))) {
    const example = path.join(dir, 'overlays', overlay, 'secrets.env.example');
    if (fs.existsSync(example)) fs.copyFileSync(example, path.join(dir, 'overlays', overlay, 'secrets.env'));
  }
  edit(dir);
  return dir;
}

/** kustomize's output for one kustomization of a copy; the base gets the example Secret (an overlay provides the real one). */
function render(k8sDir: string, kustomization: string): K8sObject[] {
  const objects = kustomizeBuild(kustomize, path.join(k8sDir, kustomization));
  if (kustomization === 'base') {
    objects.push(...parseAllDocuments(fs.readFileSync(path.join(k8sDir, 'base', 'secret.example.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject));
  }
  return objects;
}

const inCluster = (kustomization: string) => kustomization !== 'overlays/production-managed';

function allProblems(objects: K8sObject[], kustomization = 'overlays/production'): string[] {
  return [
    ...checkWorkloads(objects, expectations),
    ...checkPods(objects),
    ...checkIngress(objects),
    ...(inCluster(kustomization) ? checkDatastores(objects) : []),
    ...(kustomization.startsWith('overlays/production') && inCluster(kustomization) ? checkMongoReplicaSet(objects) : []),
  ];
}

describe(`kustomize (${kustomize.version})`, () => {
  it('.ci/run installs a pinned kustomize with go install where there is none', () => {
    const run = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    expect(pinnedKustomizeVersion(ROOT)).toMatch(/^v5\.\d+\.\d+$/);
    expect(run).toContain('go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"');
    expect(run).toContain('GOBIN="$PWD/.data/kustomize/$KUSTOMIZE_VERSION"');
  });
});

const KUSTOMIZATIONS = ['base', 'overlays/production', 'overlays/production-managed'];

describe.each(KUSTOMIZATIONS)('kustomization %s', (kustomization) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(copyOfManifests(), kustomization);
  });

  it('renders every deployable, the datastores (unless managed) and the Ingress', () => {
    const names = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name).sort();
    const deployables = DEPLOYABLES.map((d) => d.name).sort();
    expect(names('Deployment')).toEqual(deployables);
    expect(names('HorizontalPodAutoscaler')).toEqual(deployables);
    const production = kustomization === 'overlays/production';
    expect(names('PodDisruptionBudget')).toEqual([...deployables, ...(production ? ['mongodb'] : [])].sort());
    expect(names('StatefulSet')).toEqual(inCluster(kustomization) ? ['mongodb', 'redis'] : []);
    expect(names('Job')).toEqual(production ? ['mongodb-init-replica-set'] : []);
    expect(names('Ingress')).toHaveLength(1);
    expect(names('Secret')).toEqual(['rental-secrets']);
  });

  it('validates against the Kubernetes schemas', async () => {
    expect(await validateSchemas(objects)).toEqual([]);
  });

  it('meets the policy: probes, resources, rollout and security settings, an HPA and a PDB, every setting per workload, the datastores', () => {
    expect(allProblems(objects, kustomization)).toEqual([]);
  });
});

describe('production overlay', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(copyOfManifests(), 'overlays/production');
  });

  it('pins every image to a registry name and a tag (never latest)', () => {
    for (const o of objects.filter((x) => x.kind === 'Deployment')) {
      const image = (o.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
      expect(image, o.metadata.name).toMatch(/^ghcr\.io\/[^:]+\/[a-z-]+:[A-Za-z0-9._-]+$/);
      expect(image).not.toMatch(/:latest$/);
      expect(o.metadata.namespace).toBe('rental');
    }
  });

  it('runs MongoDB as a three-member replica set, initiated by a Job, that the services reach with w=majority', () => {
    expect(checkMongoReplicaSet(objects)).toEqual([]);
    const ss = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'mongodb') as K8sObject & { spec: { replicas: number } };
    expect(ss.spec.replicas).toBe(3);
    const secret = objects.find((o) => o.kind === 'Secret') as K8sObject & { data: Record<string, string> };
    const uri = Buffer.from(secret.data.MONGODB_URI!, 'base64').toString();
    expect(uri).toMatch(/[?&]replicaSet=rs0(&|$)/);
    expect(uri).toMatch(/[?&]w=majority(&|$)/);
  });

  it("keeps Redis's append-only file on a volume claim", () => {
    expect(checkDatastores(objects)).toEqual([]);
  });

  it('ships a replica set script that parses as JavaScript', () => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'mongodb-init-replica-set') as K8sObject & { data: Record<string, string> };
    const file = path.join(tmp, 'mongodb-init-replica-set.js');
    fs.writeFileSync(file, cm.data['mongodb-init-replica-set.js']!);
    const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('keeps its real secret file out of git and out of the image build context', () => {
    const ignored = spawnSync('git', ['check-ignore', '-q', path.join(HERE, 'overlays', 'production', 'secrets.env')], { cwd: ROOT });
    expect(ignored.status).toBe(0);
    expect(fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')).toMatch(/^infra\/k8s\/overlays\/\*\/secrets\.env$/m);
  });
});

describe('the checks catch broken manifests (modified copies)', () => {
  const editFile = (file: string, fn: (s: string) => string) => {
    const before = fs.readFileSync(file, 'utf8');
    const after = fn(before);
    expect(after, `edit of ${file} changed nothing`).not.toBe(before);
    fs.writeFileSync(file, after);
  };
  const brokenProduction = (edit: (dir: string) => void) => render(copyOfManifests(edit), 'overlays/production');
  const production = (d: string, f: string) => path.join(d, 'overlays', 'production', f);

  it('a setting missing from the ConfigMap', () => {
    const objects = brokenProduction((d) => editFile(path.join(d, 'base', 'configmap.yaml'), (s) => s.replace(/^ {2}SAGA_STALE_MS: .*\n/m, '')));
    const problems = allProblems(objects);
    expect(problems).toContain('Deployment reservations: setting SAGA_STALE_MS (read by its code) is in no ConfigMap or Secret it gets');
    expect(problems).toContain('Deployment reservations-worker: setting SAGA_STALE_MS (read by its code) is in no ConfigMap or Secret it gets');
  });

  it('a setting read straight from process.env (MONGODB_DB_PREFIX) missing', () => {
    const objects = brokenProduction((d) => editFile(path.join(d, 'base', 'configmap.yaml'), (s) => s.replace(/^ {2}MONGODB_DB_PREFIX: .*\n/m, '')));
    expect(allProblems(objects)).toContain('Deployment items: setting MONGODB_DB_PREFIX (read by its code) is in no ConfigMap or Secret it gets');
  });

  it('a secret key missing from the Secret', () => {
    const objects = brokenProduction((d) => editFile(production(d, 'secrets.env'), (s) => s.replace(/^JWT_SECRET=.*\n/m, '')));
    expect(allProblems(objects)).toContain('Deployment router: env JWT_SECRET refers to key JWT_SECRET missing from rental-secrets');
  });

  it('a missing probe, resources, HPA and PDB', () => {
    const objects = brokenProduction((d) => {
      const file = path.join(d, 'base', 'items.yaml');
      const docs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((x) => x.toJS() as Record<string, unknown>);
      const dep = docs.find((x) => x.kind === 'Deployment') as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      delete dep.spec.template.spec.containers[0]!.readinessProbe;
      delete (dep.spec.template.spec.containers[0]!.resources as Record<string, unknown>).limits;
      const kept = docs.filter((x) => x.kind !== 'HorizontalPodAutoscaler' && x.kind !== 'PodDisruptionBudget');
      fs.writeFileSync(file, kept.map((x) => JSON.stringify(x)).join('\n---\n'));
      // The overlay's patches of the removed objects would fail to apply: drop them too.
      for (const f of ['autoscaling.yaml', 'resources.yaml']) {
        const rest = parseAllDocuments(fs.readFileSync(production(d, f), 'utf8'))
          .map((x) => x.toJS() as { metadata: { name: string }; kind: string })
          .filter((x) => x.metadata.name !== 'items');
        fs.writeFileSync(production(d, f), rest.map((x) => JSON.stringify(x)).join('\n---\n'));
      }
    });
    const problems = allProblems(objects);
    expect(problems).toContain('Deployment items: no readinessProbe');
    expect(problems).toContain('Deployment items: no resources.limits.cpu');
    expect(problems).toContain('Deployment items: no HorizontalPodAutoscaler targets it');
    expect(problems).toContain('Deployment items: no PodDisruptionBudget selects its pods');
  });

  it('a container that the restricted Pod Security Standard would refuse', () => {
    const objects = brokenProduction((d) => editFile(path.join(d, 'base', 'redis.yaml'), (s) => s.replace(/^ {12}allowPrivilegeEscalation: false\n/m, '')));
    expect(allProblems(objects)).toContain('StatefulSet redis, container redis: allowPrivilegeEscalation is not false');
  });

  it('a single MongoDB member, without its init Job, and a connection string without replicaSet and w=majority', () => {
    const objects = brokenProduction((d) => {
      editFile(production(d, 'datastores.yaml'), (s) => s.replace(/^ {2}replicas: 3\n/m, '').replace(', "--replSet", "rs0"', ''));
      editFile(production(d, 'kustomization.yaml'), (s) => s.replace(/^ {2}- mongodb-replica-set\.yaml\n/m, ''));
      editFile(production(d, 'secrets.env'), (s) => s.replace(/^MONGODB_URI=.*$/m, 'MONGODB_URI=mongodb://u:p@mongodb-0.mongodb:27017/?authSource=admin'));
    });
    const problems = checkMongoReplicaSet(objects);
    expect(problems).toContain('StatefulSet mongodb: replicas is 1, not 3');
    expect(problems).toContain('StatefulSet mongodb: not started with --replSet');
    expect(problems).toContain('no Job initiates the replica set (a container with REPLICA_SET in its env)');
    expect(problems).toContain('StatefulSet mongodb: no PodDisruptionBudget selects its pods');
    expect(problems).toContain('MONGODB_URI: no w=majority');
    expect(problems).toContain('MONGODB_URI: no retryWrites=true');
    expect(problems.join('\n')).toMatch(/MONGODB_URI: lists mongodb-0\.mongodb:27017, not the members/);
  });

  it('an invalid object fails schema validation', async () => {
    const objects = render(copyOfManifests(), 'base');
    const dep = structuredClone(objects.find((o) => o.kind === 'Deployment')!) as K8sObject & { spec: Record<string, unknown> };
    delete dep.spec.selector;
    expect((await validateSchemas([dep])).join('\n')).toMatch(/selector/);
  });
});

describe('CI workflow (.github/workflows/ci.yml)', () => {
  type Step = { name?: string; run?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string> };
  type Job = { 'runs-on': string; container?: unknown; services?: Record<string, { image: string }>; steps: Step[]; if?: string; needs?: string | string[]; strategy?: { matrix: Record<string, unknown> } };
  const wf = parse(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'ci.yml'), 'utf8')) as { on: Record<string, unknown>; jobs: Record<string, Job> };
  const jobs = Object.values(wf.jobs);
  const runs = (j: Job) => j.steps.map((s) => s.run ?? '').join('\n');

  it('runs on push and pull request', () => {
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
  });

  it('tests with .ci/run against MongoDB 7 and Redis 7 service containers on Node 20', () => {
    const test = jobs.find((j) => /\.ci\/run/.test(runs(j)));
    expect(test, 'a job runs .ci/run').toBeDefined();
    expect(Object.values(test!.services ?? {}).map((s) => s.image).sort()).toEqual(['mongo:7', 'redis:7']);
    const env = { ...Object.assign({}, ...test!.steps.map((s) => s.env ?? {})), ...((test as { env?: object }).env ?? {}) } as Record<string, string>;
    expect(env.MONGODB_URI).toMatch(/^mongodb:\/\//);
    expect(env.REDIS_URL).toMatch(/^redis:\/\//);
    expect(JSON.stringify(test!.container ?? '') + JSON.stringify(test!.steps)).toMatch(/node:20|node-version['"]?:\s*['"]?20/);
    // Its container has no kubectl: .ci/run builds the pinned kustomize with Go.
    expect(test!.steps.some((s) => s.uses?.startsWith('actions/setup-go@'))).toBe(true);
  });

  it('checks composition and breaking schema changes with a pinned GraphQL Inspector', () => {
    const all = jobs.map(runs).join('\n');
    expect(all).toMatch(/npm run compose/);
    expect(all).toMatch(/git diff --exit-code( --)? schema\//);
    expect(all).toMatch(/@graphql-inspector\/cli@\d+\.\d+\.\d+ diff/);
    expect(all).toMatch(/git show origin\/main:schema\/supergraph\.graphql/);
  });
});
