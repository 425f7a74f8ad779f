/**
 * The processes `npm start` runs, in start order (the router last, once the
 * subgraphs it composes are up). Each runs `node --import tsx <entry>`.
 *
 * Only services whose entry file exists are started: the subgraphs are being
 * written one issue at a time, and a missing one is reported, not fatal.
 *
 * Workers (the event consumers of reservations, stores and rentals) are
 * processes of their own without a port: `WORKERS`, started once the
 * subgraphs are ready (a worker calls items/rentals like its API does).
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

/** One process of the system. */
export interface ServiceSpec {
  /** Name used in output prefixes and in SUBGRAPH_URLS. */
  name: string;
  /** Entry file, relative to the repository root. */
  entry: string;
  /** Environment variable carrying its port, and the default port. */
  portEnv: string;
  port: number;
  /** Environment variable other services read its GraphQL URL from (subgraphs only). */
  urlEnv?: string;
  /** True for subgraphs (they appear in SUBGRAPH_URLS). */
  subgraph: boolean;
  /** Path of the URL printed for it (default `/graphql`). */
  urlPath?: string;
}

/** Every service of the system; ports as in docs/ARCHITECTURE.md. */
export const SERVICES: readonly ServiceSpec[] = [
  { name: 'items', entry: 'subgraphs/items/src/main.ts', portEnv: 'ITEMS_PORT', port: 4001, urlEnv: 'ITEMS_URL', subgraph: true },
  { name: 'reservations', entry: 'subgraphs/reservations/src/main.ts', portEnv: 'RESERVATIONS_PORT', port: 4002, urlEnv: 'RESERVATIONS_URL', subgraph: true },
  { name: 'stores', entry: 'subgraphs/stores/src/main.ts', portEnv: 'STORES_PORT', port: 4003, urlEnv: 'STORES_URL', subgraph: true },
  { name: 'rentals', entry: 'subgraphs/rentals/src/main.ts', portEnv: 'RENTALS_PORT', port: 4004, urlEnv: 'RENTALS_URL', subgraph: true },
  { name: 'router', entry: 'router/src/main.ts', portEnv: 'ROUTER_PORT', port: 4000, subgraph: false },
  // The web client's build (web/dist, built by start.ts when missing or stale) with /graphql proxied to the router.
  { name: 'web', entry: 'web/serve.ts', portEnv: 'WEB_PORT', port: 5173, subgraph: false, urlPath: '/' },
];

/** A worker process: consumes its subgraph's BullMQ queue; listens on no port. */
export interface WorkerSpec {
  /** Name used in output prefixes. */
  name: string;
  /** Entry file, relative to the repository root. */
  entry: string;
  /** The subgraph it belongs to (it reads the same environment). */
  subgraph: string;
}

/** Every worker of the system (entries as in each subgraph's package). */
export const WORKERS: readonly WorkerSpec[] = [
  { name: 'reservations-worker', entry: 'subgraphs/reservations/src/worker-main.ts', subgraph: 'reservations' },
  { name: 'stores-worker', entry: 'subgraphs/stores/src/worker-main.ts', subgraph: 'stores' },
  { name: 'rentals-worker', entry: 'subgraphs/rentals/src/worker-main.ts', subgraph: 'rentals' },
];

/** The workers, with whether their entry exists. */
export function resolveWorkers(root = REPO_ROOT): Array<WorkerSpec & { present: boolean }> {
  return WORKERS.map((w) => ({ ...w, present: fs.existsSync(path.join(root, w.entry)) }));
}

/** A service with its port resolved from the environment. */
export interface ResolvedService extends ServiceSpec {
  present: boolean;
  url: string;
}

/** Resolves ports (env overrides defaults) and which entries exist. */
export function resolveServices(env: NodeJS.ProcessEnv, root = REPO_ROOT): ResolvedService[] {
  return SERVICES.map((s) => {
    const raw = env[s.portEnv];
    const port = raw && /^\d+$/.test(raw) ? Number(raw) : s.port;
    return {
      ...s,
      port,
      present: fs.existsSync(path.join(root, s.entry)),
      url: `http://127.0.0.1:${port}${s.urlPath ?? '/graphql'}`,
    };
  });
}

/**
 * Names of the subgraphs composed into the supergraph file (its
 * `@join__graph(name: …)` values), or undefined when the file is missing.
 * The router refuses SUBGRAPH_URLS entries for subgraphs it does not know, so
 * a subgraph whose code exists but that was not composed yet is left out.
 */
export function supergraphSubgraphs(file: string): Set<string> | undefined {
  let sdl: string;
  try {
    sdl = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return new Set([...sdl.matchAll(/@join__graph\(\s*name:\s*"([^"]+)"/g)].map((m) => m[1] as string));
}

/** The supergraph file the router serves (SUPERGRAPH_PATH, default schema/supergraph.graphql). */
export function supergraphPath(env: NodeJS.ProcessEnv, root = REPO_ROOT): string {
  return path.resolve(root, env.SUPERGRAPH_PATH || 'schema/supergraph.graphql');
}

/**
 * The variables that tell services where the others are: ITEMS_URL etc. for
 * every subgraph (present or not, so a caller's error names the service), and
 * SUBGRAPH_URLS (`name=url,…`) for the router: the running subgraphs that are
 * in the supergraph (`composed`; all running ones when it is unknown).
 */
export function serviceUrlsEnv(services: ResolvedService[], composed?: Set<string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of services) if (s.urlEnv) env[s.urlEnv] = s.url;
  env.SUBGRAPH_URLS = services
    .filter((s) => s.subgraph && s.present && (!composed || composed.has(s.name)))
    .map((s) => `${s.name}=${s.url}`)
    .join(',');
  return env;
}
