/**
 * Writes `infra/k8s/base/<deployable>.yaml` (Deployment, Service, HPA, PDB)
 * for every deployable in infra/docker/deployables.ts:
 * `npx tsx infra/k8s/generate.ts`. The files are committed; the manifest test
 * fails when one differs from what this script writes. The rest of base/
 * (ConfigMaps, StatefulSets, Ingress) is written by hand.
 *
 * Settings come from the ConfigMaps (`envFrom`: `rental-config` for all,
 * `<subgraph>-config` for a subgraph's own tuning); secrets are referenced key
 * by key (`secretKeyRef` into `rental-secrets`), so a pod gets only the
 * secrets it uses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { DEPLOYABLES, WORKER_HEALTH_ENV, type Deployable } from '../docker/deployables.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const SECRET_NAME = 'rental-secrets';
export const COMMON_CONFIG = 'rental-config';

/** ConfigMaps (besides rental-config) each deployable reads. */
export function configMapsOf(d: Deployable): string[] {
  if (d.kind === 'router') return [COMMON_CONFIG, 'router-config'];
  if (d.kind === 'web') return [COMMON_CONFIG];
  return [COMMON_CONFIG, `${d.name.replace(/-worker$/, '')}-config`];
}

type Shape = Record<string, unknown>;

/** Loads the zod config shape a deployable's code parses its environment with. */
export async function loadShape(d: Deployable): Promise<Shape | undefined> {
  if (!d.configModule || !d.configExport) return undefined;
  const mod = (await import(path.join(HERE, '..', '..', d.configModule))) as Record<string, Shape>;
  const shape = mod[d.configExport];
  if (!shape) throw new Error(`${d.configModule} does not export ${d.configExport}`);
  return shape;
}

const RESOURCES: Record<Deployable['kind'], { requests: Record<string, string>; limits: Record<string, string> }> = {
  router: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  subgraph: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  worker: { requests: { cpu: '100m', memory: '192Mi' }, limits: { cpu: '500m', memory: '384Mi' } },
  web: { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
};

/**
 * Seconds between SIGTERM and SIGKILL. The preStop sleep (endpoints drop the
 * pod first) counts in it, then the service's own drain: the router's
 * SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS, a subgraph's HTTP drain, a worker's
 * active jobs.
 */
const GRACE: Record<Deployable['kind'], number> = { router: 45, subgraph: 45, worker: 60, web: 30 };
export const PRESTOP_SLEEP_SECONDS = 5;

function labels(d: Deployable): Record<string, string> {
  return { 'app.kubernetes.io/name': d.name, 'app.kubernetes.io/component': d.kind };
}

function probes(d: Deployable): Record<string, unknown> {
  if (d.kind === 'worker' && !d.healthPort) {
    // This worker serves no HTTP. The process is the health: a worker that loses
    // Redis or MongoDB for good exits and the kubelet restarts it. These exec
    // probes state that (PID 1 is alive) so the rollout gate and the
    // manifest test treat workers like the rest.
    const alive = { exec: { command: ['node', '-e', 'process.kill(1, 0)'] } };
    return {
      readinessProbe: { ...alive, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
      livenessProbe: { ...alive, initialDelaySeconds: 10, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
    };
  }
  const port = d.kind === 'worker' ? 'health' : 'http';
  return {
    startupProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
    readinessProbe: { httpGet: { path: '/readyz', port }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2, successThreshold: 1 },
    livenessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
  };
}

/**
 * The keys of `rental-secrets` a deployable gets (fixed per kind, so the
 * generated files do not change with every config edit; the manifest test
 * checks them against what the code reads).
 */
export function secretKeysOf(d: Deployable): string[] {
  if (d.kind === 'web') return [];
  // The router uses Redis for its mutation rate limit and the shared APQ cache.
  if (d.kind === 'router') return ['JWT_SECRET', 'INTERNAL_JWT_SECRET', 'REDIS_URL'];
  return ['INTERNAL_JWT_SECRET', 'MONGODB_URI', 'REDIS_URL'];
}

export function deploymentOf(d: Deployable): Record<string, unknown> {
  const envVars: Record<string, unknown>[] = secretKeysOf(d).map((k) => ({
    name: k,
    valueFrom: { secretKeyRef: { name: SECRET_NAME, key: k } },
  }));
  // A worker's health server: on for the worker (the API process shares the config shape and leaves it off).
  if (d.healthPort) envVars.push({ name: WORKER_HEALTH_ENV, value: String(d.healthPort) });
  const container: Record<string, unknown> = {
    name: d.name,
    image: `rental/${d.name}`,
    imagePullPolicy: 'IfNotPresent',
    ...(d.port ? { ports: [{ name: 'http', containerPort: d.port, protocol: 'TCP' }] } : {}),
    ...(d.healthPort ? { ports: [{ name: 'health', containerPort: d.healthPort, protocol: 'TCP' }] } : {}),
    envFrom: configMapsOf(d).map((name) => ({ configMapRef: { name } })),
    ...(envVars.length > 0 ? { env: envVars } : {}),
    ...probes(d),
    lifecycle: { preStop: { exec: { command: ['sleep', String(PRESTOP_SLEEP_SECONDS)] } } },
    resources: RESOURCES[d.kind],
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: d.name, labels: labels(d) },
    spec: {
      // No `replicas`: the HorizontalPodAutoscaler owns the count (an apply
      // would otherwise reset it). Its minReplicas is the floor.
      revisionHistoryLimit: 5,
      minReadySeconds: 5,
      selector: { matchLabels: { 'app.kubernetes.io/name': d.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels(d) },
        spec: {
          terminationGracePeriodSeconds: GRACE[d.kind],
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            // The images' USER node is uid/gid 1000; numeric so the kubelet can check it.
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: { 'app.kubernetes.io/name': d.name } },
            },
          ],
          containers: [container],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

function serviceOf(d: Deployable): Record<string, unknown> | undefined {
  if (!d.port) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: d.name, labels: labels(d) },
    spec: {
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': d.name },
      ports: [{ name: 'http', port: d.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

function hpaOf(d: Deployable): Record<string, unknown> {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: d.name, labels: labels(d) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: d.name },
      minReplicas: 2,
      maxReplicas: d.kind === 'web' ? 4 : 6,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
      ],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 2, periodSeconds: 30 }] },
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
      },
    },
  };
}

function pdbOf(d: Deployable): Record<string, unknown> {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: d.name, labels: labels(d) },
    spec: {
      // One pod at a time may be evicted (node drains never block; with the
      // HPA's floor of 2, one stays serving).
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': d.name } },
    },
  };
}

export function renderDeployable(d: Deployable): string {
  const docs = [deploymentOf(d), serviceOf(d), hpaOf(d), pdbOf(d)].filter(
    (x): x is Record<string, unknown> => x !== undefined,
  );
  const header =
    `# GENERATED by infra/k8s/generate.ts from infra/docker/deployables.ts: edit there and\n` +
    `# run \`npx tsx infra/k8s/generate.ts\`. ${d.name}: ${d.kind}.\n`;
  return header + docs.map((doc) => stringify(doc, { lineWidth: 0 })).join('---\n');
}

export function manifestPath(d: Deployable): string {
  return path.join(HERE, 'base', `${d.name}.yaml`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const d of DEPLOYABLES) {
    fs.writeFileSync(manifestPath(d), renderDeployable(d));
    process.stdout.write(`wrote ${path.relative(process.cwd(), manifestPath(d))}\n`);
  }
}
