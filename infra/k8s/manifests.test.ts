/**
 * The Kubernetes manifests (infra/k8s) and the CI workflow, checked offline:
 * the kustomizations are rendered by render.ts (and compared with
 * `kubectl kustomize` where kubectl exists), every object is validated
 * against the Kubernetes schemas (kubernetes-models), and the workload rules
 * of checks.ts hold: probes, resources, rollout, security, an autoscaler and
 * a PodDisruptionBudget per Deployment, and every setting the code reads (its
 * zod config shape, plus direct process.env reads) in a ConfigMap or Secret it
 * gets. Broken copies prove the checks fail when they should.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEPLOYABLES } from '../docker/deployables.js';
import { checkDatastores, checkIngress, checkWorkloads, expectedEnv, validateSchemas, type Expectation } from './checks.js';
import { loadShape, manifestPath, renderDeployable } from './generate.js';
import { readYamlDocs, renderKustomization, type K8sObject, type RenderOptions } from './render.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');

/** Renders with the example secret files standing in for the gitignored real ones. */
function render(k8sDir: string, overlay: string): K8sObject[] {
  const dir = path.join(k8sDir, overlay);
  const opts: RenderOptions = { fileOverrides: {} };
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (f.endsWith('.env.example')) opts.fileOverrides![path.join(dir, f.replace(/\.example$/, ''))] = path.join(dir, f);
  }
  const objects = renderKustomization(dir, opts);
  if (overlay === 'base') {
    // The base has no Secret (an overlay provides it): check it with the example.
    objects.push(...(readYamlDocs(path.join(k8sDir, 'base', 'secret.example.yaml')) as K8sObject[]));
  }
  return objects;
}

let expectations: Expectation[];

beforeAll(async () => {
  expectations = [];
  for (const d of DEPLOYABLES) {
    const shape = await loadShape(d);
    expectations.push({ deployable: d, env: expectedEnv(d, shape ? Object.keys(shape) : undefined, ROOT) });
  }
});

function allProblems(objects: K8sObject[]): string[] {
  return [...checkWorkloads(objects, expectations), ...checkDatastores(objects), ...checkIngress(objects)];
}

describe('generated manifests', () => {
  it.each(DEPLOYABLES.map((d) => [d.name, d] as const))('base/%s.yaml is what generate.ts writes', (_n, d) => {
    expect(fs.readFileSync(manifestPath(d), 'utf8'), 'run `npx tsx infra/k8s/generate.ts`').toBe(renderDeployable(d));
  });
});

describe.each(['base', 'overlays/production'])('kustomization %s', (overlay) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(HERE, overlay);
  });

  it('renders every deployable, both datastores and the Ingress', () => {
    const names = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name).sort();
    expect(names('Deployment')).toEqual(DEPLOYABLES.map((d) => d.name).sort());
    expect(names('HorizontalPodAutoscaler')).toEqual(DEPLOYABLES.map((d) => d.name).sort());
    expect(names('PodDisruptionBudget')).toEqual(DEPLOYABLES.map((d) => d.name).sort());
    expect(names('StatefulSet')).toEqual(['mongodb', 'redis']);
    expect(names('Ingress')).toHaveLength(1);
    expect(names('Secret')).toEqual(['rental-secrets']);
  });

  it('validates against the Kubernetes schemas', async () => {
    expect(await validateSchemas(objects)).toEqual([]);
  });

  it('has probes, resources, rollout and security settings, an HPA, a PDB and every setting per workload', () => {
    expect(allProblems(objects)).toEqual([]);
  });

  it.skipIf(spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0)('renders as `kubectl kustomize` does', () => {
    // kubectl reads the real secret file: give it the example in a copy.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-render-'));
    try {
      fs.cpSync(HERE, tmp, { recursive: true, filter: (src) => !src.endsWith('secrets.env') });
      for (const dir of [path.join(tmp, 'overlays', 'production')]) {
        const ex = path.join(dir, 'secrets.env.example');
        if (fs.existsSync(ex)) fs.copyFileSync(ex, path.join(dir, 'secrets.env'));
      }
      const out = execFileSync('kubectl', ['kustomize', path.join(tmp, overlay)], { encoding: 'utf8' });
      const real = parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
      const mine = renderKustomization(path.join(tmp, overlay));
      const norm = (o: K8sObject) => {
        const c = JSON.parse(JSON.stringify(o)) as K8sObject & { data?: Record<string, string> };
        if (c.kind === 'Secret' && c.data) for (const k of Object.keys(c.data)) c.data[k] = String(c.data[k]).replace(/\s/g, '');
        return c;
      };
      const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      expect(mine.map(key).sort()).toEqual(real.map(key).sort());
      const byKey = new Map(mine.map((o) => [key(o), norm(o)]));
      for (const r of real) expect(isDeepStrictEqual(byKey.get(key(r)), norm(r)), key(r)).toBe(true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('production overlay', () => {
  it('pins every image to a registry name and a tag (never latest)', () => {
    const objects = render(HERE, 'overlays/production');
    for (const o of objects.filter((x) => x.kind === 'Deployment')) {
      const image = (o.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
      expect(image, o.metadata.name).toMatch(/^ghcr\.io\/[^:]+\/[a-z-]+:[A-Za-z0-9._-]+$/);
      expect(image).not.toMatch(/:latest$/);
      expect(o.metadata.namespace).toBe('rental');
    }
  });

  it('keeps its real secret file out of git and out of the image build context', () => {
    const ignored = spawnSync('git', ['check-ignore', '-q', path.join(HERE, 'overlays', 'production', 'secrets.env')], { cwd: ROOT });
    expect(ignored.status).toBe(0);
    expect(fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')).toMatch(/^infra\/k8s\/overlays\/\*\/secrets\.env$/m);
  });
});

describe('the checks catch broken manifests (modified copies)', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-broken-'));
    return () => fs.rmSync(tmp, { recursive: true, force: true });
  });

  function brokenCopy(edit: (dir: string) => void): K8sObject[] {
    const dir = fs.mkdtempSync(path.join(tmp, 'copy-'));
    fs.cpSync(HERE, dir, { recursive: true, filter: (src) => !src.endsWith('secrets.env') });
    edit(dir);
    return render(dir, 'overlays/production');
  }

  const editFile = (file: string, fn: (s: string) => string) => {
    const before = fs.readFileSync(file, 'utf8');
    const after = fn(before);
    expect(after, `edit of ${file} changed nothing`).not.toBe(before);
    fs.writeFileSync(file, after);
  };

  it('a setting missing from the ConfigMap', () => {
    const objects = brokenCopy((d) => editFile(path.join(d, 'base', 'configmap.yaml'), (s) => s.replace(/^ {2}SAGA_STALE_MS: .*\n/m, '')));
    const problems = allProblems(objects);
    expect(problems).toContain('Deployment reservations: setting SAGA_STALE_MS (read by its code) is in no ConfigMap or Secret it gets');
    expect(problems).toContain('Deployment reservations-worker: setting SAGA_STALE_MS (read by its code) is in no ConfigMap or Secret it gets');
  });

  it('a setting read straight from process.env (MONGODB_DB_PREFIX) missing', () => {
    const objects = brokenCopy((d) => editFile(path.join(d, 'base', 'configmap.yaml'), (s) => s.replace(/^ {2}MONGODB_DB_PREFIX: .*\n/m, '')));
    expect(allProblems(objects)).toContain('Deployment items: setting MONGODB_DB_PREFIX (read by its code) is in no ConfigMap or Secret it gets');
  });

  it('a secret key missing from the Secret', () => {
    const objects = brokenCopy((d) => editFile(path.join(d, 'overlays', 'production', 'secrets.env.example'), (s) => s.replace(/^JWT_SECRET=.*\n/m, '')));
    expect(allProblems(objects)).toContain('Deployment router: env JWT_SECRET refers to key JWT_SECRET missing from rental-secrets');
  });

  it('a missing probe, resources, HPA and PDB', () => {
    const objects = brokenCopy((d) => {
      const file = path.join(d, 'base', 'items.yaml');
      const docs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((x) => x.toJS() as Record<string, unknown>);
      const dep = docs.find((x) => x.kind === 'Deployment') as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      delete dep.spec.template.spec.containers[0]!.readinessProbe;
      delete (dep.spec.template.spec.containers[0]!.resources as Record<string, unknown>).limits;
      const kept = docs.filter((x) => x.kind !== 'HorizontalPodAutoscaler' && x.kind !== 'PodDisruptionBudget');
      fs.writeFileSync(file, kept.map((x) => JSON.stringify(x)).join('\n---\n'));
      // The overlay's patches of the removed objects would fail to apply: drop them too.
      for (const f of ['autoscaling.yaml', 'resources.yaml']) {
        const p = path.join(d, 'overlays', 'production', f);
        const rest = parseAllDocuments(fs.readFileSync(p, 'utf8'))
          .map((x) => x.toJS() as { metadata: { name: string }; kind: string })
          .filter((x) => x.metadata.name !== 'items');
        fs.writeFileSync(p, rest.map((x) => JSON.stringify(x)).join('\n---\n'));
      }
    });
    const problems = allProblems(objects);
    expect(problems).toContain('Deployment items: no readinessProbe');
    expect(problems).toContain('Deployment items: no resources.limits.cpu');
    expect(problems).toContain('Deployment items: no HorizontalPodAutoscaler targets it');
    expect(problems).toContain('Deployment items: no PodDisruptionBudget selects its pods');
  });

  it('an invalid object fails schema validation', async () => {
    const objects = render(HERE, 'base');
    const dep = structuredClone(objects.find((o) => o.kind === 'Deployment')!) as K8sObject & { spec: Record<string, unknown> };
    delete dep.spec.selector;
    expect((await validateSchemas([dep])).join('\n')).toMatch(/selector/);
  });

  it('a kustomize feature render.ts does not implement is refused, not ignored', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'copy-'));
    fs.cpSync(HERE, dir, { recursive: true });
    fs.appendFileSync(path.join(dir, 'base', 'kustomization.yaml'), 'commonAnnotations:\n  a: b\n');
    expect(() => renderKustomization(path.join(dir, 'base'))).toThrow(/commonAnnotations/);
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
  });

  it('checks composition and breaking schema changes with a pinned GraphQL Inspector', () => {
    const all = jobs.map(runs).join('\n');
    expect(all).toMatch(/npm run compose/);
    expect(all).toMatch(/git diff --exit-code( --)? schema\//);
    expect(all).toMatch(/@graphql-inspector\/cli@\d+\.\d+\.\d+ diff/);
    expect(all).toMatch(/git show origin\/main:schema\/supergraph\.graphql/);
  });

  it('builds an image per deployable on every run, and pushes it tagged with the commit on main only', () => {
    const build = jobs.find((j) => j.steps.some((s) => s.uses?.startsWith('docker/build-push-action@')));
    expect(build).toBeDefined();
    const matrix = JSON.stringify(build!.strategy?.matrix ?? {});
    for (const d of DEPLOYABLES) expect(matrix, d.name).toContain(`"${d.name}"`);
    const push = build!.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
    expect(String(push.with?.tags)).toMatch(/ghcr\.io\/.*github\.sha|ghcr\.io\/.*GITHUB_SHA|\$\{\{\s*github\.sha\s*\}\}/);
    expect(String(push.with?.file)).toMatch(/infra\/docker\/\$\{\{\s*matrix\.\w+\s*\}\}\.Dockerfile/);
    expect(String(push.with?.push)).toMatch(/github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'/);
    expect(String(push.with?.tags)).toMatch(/ghcr\.io|steps\.image\.outputs\.name/);
    expect(build!.steps.map((s) => s.run ?? '').join('\n')).toMatch(/ghcr\.io\/\$\{GITHUB_REPOSITORY,,\}\/\$\{\{ matrix\.deployable \}\}/);
  });
});
