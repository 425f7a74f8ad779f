/**
 * The deployables: one container image (built from infra/docker/Dockerfile
 * with the build arguments {@link imageBuildOf} names), one compose service
 * and one Kubernetes Deployment each. This list is what the tests hold the
 * compose file, the CI image builds and the Kubernetes manifests to: each must
 * cover exactly these, with these ports, entries and config shapes.
 */
export type Kind = 'router' | 'subgraph' | 'worker' | 'web';

export interface Deployable {
  /** Image, compose service and Deployment name. */
  name: string;
  kind: Kind;
  /** npm workspace folder the image is built from. */
  workspace: string;
  /** Bundle (relative to the workspace) the container runs; web: the static files folder. */
  entry: string;
  /** Listening port and the variable that sets it (none for workers). */
  port?: number;
  portEnv?: string;
  /**
   * Workers: port of the worker's own HTTP server (`/healthz`, `/readyz`,
   * `/metrics`), set through WORKER_HEALTH_PORT. Unset: the worker serves no
   * HTTP and is probed as a process (see docs/DEPLOY.md).
   */
  healthPort?: number;
  /** The zod config shape's module and export (relative to the repository root); web has none. */
  configModule?: string;
  configExport?: string;
}

export const DEPLOYABLES: readonly Deployable[] = [
  { name: 'router', kind: 'router', workspace: 'router', entry: 'dist/main.js', port: 4000, portEnv: 'ROUTER_PORT', configModule: 'router/src/config.ts', configExport: 'routerShape' },
  { name: 'items', kind: 'subgraph', workspace: 'subgraphs/items', entry: 'dist/main.js', port: 4001, portEnv: 'ITEMS_PORT', configModule: 'subgraphs/items/src/config.ts', configExport: 'itemsConfigShape' },
  { name: 'reservations', kind: 'subgraph', workspace: 'subgraphs/reservations', entry: 'dist/main.js', port: 4002, portEnv: 'RESERVATIONS_PORT', configModule: 'subgraphs/reservations/src/config.ts', configExport: 'reservationsConfigShape' },
  { name: 'stores', kind: 'subgraph', workspace: 'subgraphs/stores', entry: 'dist/main.js', port: 4003, portEnv: 'STORES_PORT', configModule: 'subgraphs/stores/src/config.ts', configExport: 'storesConfigShape' },
  { name: 'rentals', kind: 'subgraph', workspace: 'subgraphs/rentals', entry: 'dist/main.js', port: 4004, portEnv: 'RENTALS_PORT', configModule: 'subgraphs/rentals/src/config.ts', configExport: 'rentalsConfigShape' },
  { name: 'reservations-worker', kind: 'worker', workspace: 'subgraphs/reservations', entry: 'dist/worker-main.js', healthPort: 9090, configModule: 'subgraphs/reservations/src/config.ts', configExport: 'reservationsConfigShape' },
  { name: 'stores-worker', kind: 'worker', workspace: 'subgraphs/stores', entry: 'dist/worker-main.js', healthPort: 9090, configModule: 'subgraphs/stores/src/config.ts', configExport: 'storesConfigShape' },
  { name: 'rentals-worker', kind: 'worker', workspace: 'subgraphs/rentals', entry: 'dist/worker-main.js', healthPort: 9090, configModule: 'subgraphs/rentals/src/config.ts', configExport: 'rentalsConfigShape' },
  { name: 'web', kind: 'web', workspace: 'web', entry: 'dist', port: 8080, portEnv: 'WEB_PORT' },
];

/** The variable that turns a worker's health server on (its port). */
export const WORKER_HEALTH_ENV = 'WORKER_HEALTH_PORT';

/** Variables the web image's static server reads (infra/docker/web-server.mjs). */
export const WEB_SERVER_ENV = ['WEB_PORT', 'HOST', 'ROUTER_URL'] as const;

/**
 * How infra/docker/Dockerfile builds a deployable's image: its target and
 * build arguments. The compose file and the CI workflow each restate them;
 * infra/docker/docker.test.ts fails when either differs from this.
 */
export function imageBuildOf(d: Deployable): { target: 'node' | 'web'; args: Record<string, string> } {
  const [port, portEnv] = d.kind === 'worker' ? [d.healthPort, WORKER_HEALTH_ENV] : [d.port, d.portEnv];
  if (port === undefined || portEnv === undefined) throw new Error(`${d.name}: no port to serve HTTP (or health) on`);
  const args: Record<string, string> = { WORKSPACE: d.workspace, PORT: String(port), PORT_ENV: portEnv };
  if (d.kind !== 'web') args.ENTRY = d.entry;
  return { target: d.kind === 'web' ? 'web' : 'node', args };
}
