/**
 * The whole system for end-to-end tests, benchmarks and other harnesses:
 * items, reservations, stores and rentals (each with its worker where it has
 * one) and the real router (`startRouter`) on the checked-in
 * `schema/supergraph.graphql`, with `SUBGRAPH_URLS` pointing at where this
 * stack started the subgraphs.
 *
 * - Real servers: MongoDB (or FerretDB) and Redis from `MONGODB_URI` /
 *   `REDIS_URL`, which the vitest global setup (`infra/local/test-setup.ts`)
 *   sets, together with `JWT_SECRET` and `INTERNAL_JWT_SECRET`.
 * - Isolation: every stack has its own database prefix (`<prefix>_items`, …)
 *   and BullMQ `QUEUE_PREFIX`; `stop()` drops the databases and obliterates
 *   the queues.
 * - Each service runs in this process (the `start<Name>` factories, fast) or,
 *   when listed in `processes`, as a child process `node --import tsx <entry>`
 *   exactly as `npm start` runs it (for crash tests: `kill('SIGKILL')`).
 * - Outages: every subgraph and worker has a handle with `stop()` and
 *   `start()`. A subgraph comes back on the same port, so the router (and the
 *   services that call it) reach it again without a restart.
 *
 * ```ts
 * const stack = await startStack({ tag: 'saga', env: { reservations: { BREAKER_RESET_MS: '500' } } });
 * const admin = await stack.tokens.admin();
 * const res = await stack.gql(admin, 'mutation { createStore(input: { name: "S", city: "C" }) { id } }');
 * await stack.workers.stores.stop();   // events wait in stores-events
 * await stack.workers.stores.start();  // and are handled now
 * await stack.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'mongoose';
import { signUserToken, type UserRole } from '@rental/auth';
import { parseConfig } from '@rental/config';
import { connectDatabase } from '@rental/db';
import { EventBus } from '@rental/events';
import { createLogger, type Logger } from '@rental/observability';
import { itemsConfigShape, startItems } from '@rental/items';
import { rentalsConfigShape, startRentals, startRentalsWorker } from '@rental/rentals';
import { reservationsConfigShape, startReservations, startReservationsWorker } from '@rental/reservations';
import { parseRouterConfig, startRouter, type RunningRouter } from '@rental/router';
import { startStores, startStoresWorker, storesConfigShape } from '@rental/stores';
import { freePort } from '../../infra/local/ports.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const SUBGRAPHS = ['items', 'reservations', 'stores', 'rentals'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];
export const WORKERS = ['reservations-worker', 'stores-worker', 'rentals-worker'] as const;
export type WorkerName = (typeof WORKERS)[number];
export type ServiceName = SubgraphName | WorkerName;

/** Entry files, as `npm start` runs them (used for services run as child processes). */
export const ENTRIES: Record<ServiceName, string> = {
  items: 'subgraphs/items/src/main.ts',
  reservations: 'subgraphs/reservations/src/main.ts',
  stores: 'subgraphs/stores/src/main.ts',
  rentals: 'subgraphs/rentals/src/main.ts',
  'reservations-worker': 'subgraphs/reservations/src/worker-main.ts',
  'stores-worker': 'subgraphs/stores/src/worker-main.ts',
  'rentals-worker': 'subgraphs/rentals/src/worker-main.ts',
};

/** The port variable of each subgraph. */
const PORT_ENV: Record<SubgraphName, string> = {
  items: 'ITEMS_PORT',
  reservations: 'RESERVATIONS_PORT',
  stores: 'STORES_PORT',
  rentals: 'RENTALS_PORT',
};

export interface StackOptions {
  /** Part of the database and queue prefix (readable names in the server); default `e2e`. */
  tag?: string;
  /**
   * Environment overrides per service (a worker gets its subgraph's overrides
   * too, then its own), e.g. `{ reservations: { BREAKER_RESET_MS: '500' } }`.
   * `all` applies to every service and the router.
   */
  env?: Partial<Record<ServiceName | 'router' | 'all', Record<string, string>>>;
  /** Workers to start with the stack (default: all three). The others can be started later with their handle. */
  workers?: readonly WorkerName[];
  /** Services run as child processes (`node --import tsx <entry>`) instead of in this process. */
  processes?: readonly ServiceName[];
  /**
   * `REDIS_URL` given to services run as child processes (default: the real
   * one); e.g. a proxy the test can cut (see `startTcpProxy`).
   */
  processRedisUrl?: string;
  /** Log level of the services (default `TEST_LOG_LEVEL` or `silent`). */
  logLevel?: string;
  /** A MongoDB server of the test's own instead of `MONGODB_URI` (a test that kills its database tier). */
  mongoUri?: string;
}

/** A subgraph or worker that a test can stop and start again. */
export interface ServiceHandle {
  name: ServiceName;
  /** True between a successful `start()` and `stop()`/`kill()`. */
  readonly running: boolean;
  /** Starts it again (a subgraph on the same port). No-op when running. */
  start(): Promise<void>;
  /** Stops it gracefully. No-op when stopped. */
  stop(): Promise<void>;
  /** Child processes only: sends the signal and waits for the exit. In-process: same as `stop()`. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Child processes only: the pid of the current process. */
  readonly pid: number | undefined;
  /** Child processes only: the last lines it printed (for failure messages). */
  output(): string;
}

export interface SubgraphHandle extends ServiceHandle {
  name: SubgraphName;
  port: number;
  /** `http://127.0.0.1:<port>/graphql` */
  url: string;
  /** Its database name. */
  dbName: string;
}

export interface GqlError {
  message: string;
  path?: unknown[];
  extensions?: Record<string, unknown> & { code?: string };
}

export interface GqlResponse<T = Record<string, unknown>> {
  /** HTTP status of the router's answer. */
  status: number;
  data?: T | null;
  errors?: GqlError[];
}

/** The stack's router: stop it and start it again (a new instance, same config, same port, so the same URL). */
export interface RouterHandle {
  /** True between a successful `start()` and `stop()`. */
  readonly running: boolean;
  /** Its port (fixed at the first start). */
  readonly port: number;
  /** The running instance (after `stop()`: the last one). */
  readonly current: RunningRouter;
  /** Starts a new router instance on the same port with the same config. No-op when running. */
  start(): Promise<void>;
  /** Stops it gracefully (`RunningRouter.stop()`: WebSockets close with 1012, HTTP drains). No-op when stopped. */
  stop(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
}

export interface Stack {
  /** The router's GraphQL URL (unchanged across `routerHandle.restart()`). */
  url: string;
  /** The current router instance (the same as `routerHandle.current`). */
  readonly router: RunningRouter;
  /** Stops and starts the router on the same port. */
  routerHandle: RouterHandle;
  /** Starts another router replica on the same subgraphs, with the same settings, on a port of its own (stopped with the stack). */
  addRouter(): Promise<RouterHandle>;
  dbPrefix: string;
  queuePrefix: string;
  subgraphs: Record<SubgraphName, SubgraphHandle>;
  workers: Record<WorkerName, ServiceHandle>;
  /** A GraphQL request through the router, with `Authorization: Bearer <token>` when a token is given. */
  /** One operation through the router (or the router at `url`, e.g. a replica from `addRouter()`). */
  gql<T = Record<string, unknown>>(token: string | undefined, query: string, variables?: Record<string, unknown>, url?: string): Promise<GqlResponse<T>>;
  /** A user token signed with JWT_SECRET (what `npm run token` prints). */
  token(role: UserRole, sub: string, storeId?: string): Promise<string>;
  tokens: {
    customer(sub?: string): Promise<string>;
    staff(storeId: string, sub?: string): Promise<string>;
    admin(sub?: string): Promise<string>;
  };
  /** A direct connection to a subgraph's database (for checking what was written); closed by `stop()`. */
  db(subgraph: SubgraphName): Promise<Connection>;
  /** An event bus on this stack's queue prefix: inspect queues, publish as a subgraph would. Closed by `stop()`. */
  bus(): EventBus;
  /** The environment a service gets (for starting more processes by hand). */
  envFor(name: ServiceName): Record<string, string>;
  /** Stops everything (router first), drops the databases and the queues. Safe to call twice. */
  stop(): Promise<void>;
}

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (the vitest global setup sets it)`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Removes what one test run of the system left behind: the BullMQ queues
 * under `queuePrefix` (obliterated) and the four subgraph databases named
 * `<dbPrefix>_<subgraph>` (dropped). Every step is best effort: a run that
 * failed half-way is cleaned up as far as it got.
 */
export async function removeRunData(run: { mongoUri: string; redisUrl: string | undefined; dbPrefix: string; queuePrefix: string }): Promise<void> {
  const cleanup = new EventBus({ redisUrl: run.redisUrl, prefix: run.queuePrefix });
  for (const q of cleanup.allQueues()) await q.obliterate({ force: true }).catch(() => undefined);
  await cleanup.close().catch(() => undefined);
  for (const s of SUBGRAPHS) {
    const conn = await connectDatabase(run.mongoUri, `${run.dbPrefix}_${s}`).catch(() => undefined);
    await conn?.dropDatabase().catch(() => undefined);
    await conn?.close().catch(() => undefined);
  }
}

/** Polls until a condition holds (one helper for every test: `@rental/subgraph-server/testing`). */
export { eventually } from '@rental/subgraph-server/testing';

/** `YYYY-MM-DD` of today (UTC) plus `days`. */
export function day(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

async function waitReady(url: string, timeoutMs: number, exited?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited?.()) throw new Error(`process exited before ${url} was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/**
 * Extra Node flags for services run as child processes, from
 * `STACK_NODE_ARGS` (space-separated), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
 * to profile every service of a benchmark (Node refuses `--cpu-prof` in
 * NODE_OPTIONS). A profile is written when the service exits normally.
 */
export function profilingArgs(): string[] {
  return (process.env.STACK_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/** A service as a child process `node --import tsx <entry>`, like `npm start` runs it. */
function processHandle(
  name: ServiceName,
  env: () => Record<string, string>,
  readyUrl: string | undefined,
): Omit<ServiceHandle, 'name'> & { name: ServiceName } {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let lines: string[] = [];
  const handle = {
    name,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    get pid() {
      return child?.pid;
    },
    output: () => lines.join('\n'),
    async start() {
      if (handle.running) return;
      lines = [];
      const proc = spawn(process.execPath, [...profilingArgs(), '--import', 'tsx', ENTRIES[name]], {
        cwd: REPO_ROOT,
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let gone = false;
      exited = new Promise((resolve) => proc.once('exit', () => ((gone = true), resolve())));
      for (const stream of [proc.stdout, proc.stderr]) {
        stream?.setEncoding('utf8').on('data', (chunk: string) => {
          lines.push(...chunk.split('\n').filter(Boolean));
          if (lines.length > 200) lines = lines.slice(-200);
        });
      }
      if (readyUrl) {
        try {
          await waitReady(readyUrl, 60_000, () => gone);
        } catch (err) {
          proc.kill('SIGKILL');
          throw new Error(`${name}: ${(err as Error).message}\n${handle.output()}`);
        }
      } else {
        // A worker has no port: give it time to connect and subscribe, and fail if it died.
        await sleep(1500);
        if (gone) throw new Error(`${name} exited at start\n${handle.output()}`);
      }
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!handle.running) return;
      child?.kill(signal);
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    stop: () => handle.kill('SIGTERM'),
  };
  return handle;
}

/** A service run in this process by its `start…` factory. */
function inProcessHandle(name: ServiceName, start: () => Promise<{ stop(): Promise<void> }>) {
  let running: { stop(): Promise<void> } | undefined;
  const handle = {
    name,
    get running() {
      return running !== undefined;
    },
    pid: undefined,
    output: () => '',
    async start() {
      running ??= await start();
    },
    async stop() {
      const r = running;
      running = undefined;
      await r?.stop();
    },
    kill: () => handle.stop(),
  };
  return handle;
}

/** Starts the whole system; see the module comment. Throws (having stopped what started) if any part fails. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const id = `${options.tag ?? 'e2e'}_${randomBytes(4).toString('hex')}`;
  const dbPrefix = `e2e_${id}`;
  const queuePrefix = `e2e_${id}`;
  const mongoUri = options.mongoUri ?? requireEnv('MONGODB_URI');
  const redisUrl = requireEnv('REDIS_URL');
  const jwtSecret = requireEnv('JWT_SECRET');
  const logLevel = options.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'silent';
  const logger: Logger = createLogger('stack', logLevel);
  const processes = new Set(options.processes ?? []);
  const workersToStart = new Set(options.workers ?? WORKERS);

  const ports = {} as Record<SubgraphName, number>;
  for (const s of SUBGRAPHS) ports[s] = await freePort();
  const urlOf = (s: SubgraphName) => `http://127.0.0.1:${ports[s]}/graphql`;

  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) base[k] = v;
  const envFor = (name: ServiceName): Record<string, string> => {
    const subgraph = name.replace(/-worker$/, '') as SubgraphName;
    const env: Record<string, string> = {
      ...base,
      NODE_ENV: 'test',
      LOG_LEVEL: logLevel,
      MONGODB_URI: mongoUri,
      REDIS_URL: processes.has(name) && options.processRedisUrl ? options.processRedisUrl : redisUrl,
      MONGODB_DB_PREFIX: dbPrefix,
      QUEUE_PREFIX: queuePrefix,
      OUTBOX_SWEEP_MS: '500',
      ITEMS_URL: urlOf('items'),
      RENTALS_URL: urlOf('rentals'),
      RESERVATIONS_URL: urlOf('reservations'),
      STORES_URL: urlOf('stores'),
      [PORT_ENV[subgraph]]: String(ports[subgraph]),
      ...(options.env?.all ?? {}),
      ...(options.env?.[subgraph] ?? {}),
    };
    if (name !== subgraph) Object.assign(env, options.env?.[name] ?? {});
    return env;
  };

  const inProcess: Record<ServiceName, () => Promise<{ stop(): Promise<void> }>> = {
    items: () => startItems(parseConfig(itemsConfigShape, envFor('items')), { port: ports.items, dbPrefix, logger }),
    reservations: () =>
      startReservations(parseConfig(reservationsConfigShape, envFor('reservations')), { port: ports.reservations, dbPrefix, queuePrefix, logger }),
    stores: () => startStores(parseConfig(storesConfigShape, envFor('stores')), { dbPrefix, queuePrefix, logger }),
    rentals: () => startRentals(parseConfig(rentalsConfigShape, envFor('rentals')), { port: ports.rentals, dbPrefix, logger }),
    'reservations-worker': () =>
      startReservationsWorker(parseConfig(reservationsConfigShape, envFor('reservations-worker')), { dbPrefix, queuePrefix, logger }),
    'stores-worker': () => startStoresWorker(parseConfig(storesConfigShape, envFor('stores-worker')), { dbPrefix, queuePrefix, logger }),
    'rentals-worker': () => startRentalsWorker(parseConfig(rentalsConfigShape, envFor('rentals-worker')), { dbPrefix, logger }),
  };
  const makeHandle = (name: ServiceName, readyUrl?: string): ServiceHandle =>
    processes.has(name) ? processHandle(name, () => envFor(name), readyUrl) : inProcessHandle(name, inProcess[name]);

  const subgraphs = {} as Record<SubgraphName, SubgraphHandle>;
  for (const s of SUBGRAPHS) {
    const handle = makeHandle(s, `http://127.0.0.1:${ports[s]}/readyz`);
    subgraphs[s] = Object.assign(handle, { name: s, port: ports[s], url: urlOf(s), dbName: `${dbPrefix}_${s}` });
  }
  const workers = {} as Record<WorkerName, ServiceHandle>;
  for (const w of WORKERS) workers[w] = makeHandle(w);

  /** A router on the stack's subgraphs (its own port, fixed at its first start), with the stack's router settings. */
  const makeRouterHandle = (): RouterHandle => {
    let instance: RunningRouter | undefined;
    let running = false;
    let port = 0;
    const launch = async (): Promise<void> => {
      instance = await startRouter(
        parseRouterConfig({
          ...base,
          NODE_ENV: 'test',
          LOG_LEVEL: logLevel,
          JWT_SECRET: jwtSecret,
          ROUTER_PORT: String(port),
          SUPERGRAPH_PATH: path.join(REPO_ROOT, 'schema/supergraph.graphql'),
          SUPERGRAPH_WATCH: 'false',
          SUBGRAPH_URLS: SUBGRAPHS.map((s) => `${s}=${urlOf(s)}`).join(','),
          DRAIN_TIMEOUT_MS: '1000',
          ...(options.env?.all ?? {}),
          ...(options.env?.router ?? {}),
        }),
        { logger },
      );
      running = true;
      port = instance.port;
    };
    const halt = async (): Promise<void> => {
      if (!running) return;
      running = false;
      await instance?.stop();
    };
    return {
      get running() {
        return running;
      },
      get port() {
        return port;
      },
      get current() {
        return instance as RunningRouter;
      },
      async start() {
        if (!running) await launch();
      },
      stop: halt,
      async restart() {
        await halt();
        await launch();
      },
    };
  };
  const routerHandle = makeRouterHandle();
  /** Routers added with `addRouter()` (replicas beside the first one). */
  const replicas: RouterHandle[] = [];
  const stopRouter = async (): Promise<void> => {
    await Promise.all([routerHandle, ...replicas].map((r) => r.stop()));
  };
  let bus: EventBus | undefined;
  const conns = new Map<SubgraphName, Promise<Connection>>();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      const quietly = (p: Promise<unknown> | undefined, what: string) =>
        p?.catch((err: unknown) => logger.warn({ err }, `stack: stopping ${what} failed`));
      await quietly(stopRouter(), 'router');
      await Promise.all(WORKERS.map((w) => quietly(workers[w].stop(), w)));
      await Promise.all(SUBGRAPHS.map((s) => quietly(subgraphs[s].stop(), s)));
      await bus?.close().catch(() => undefined);
      for (const c of conns.values()) await (await c.catch(() => undefined))?.close().catch(() => undefined);
      await removeRunData({ mongoUri, redisUrl, dbPrefix, queuePrefix });
    })());

  try {
    await Promise.all(SUBGRAPHS.map((s) => subgraphs[s].start()));
    await Promise.all(WORKERS.filter((w) => workersToStart.has(w)).map((w) => workers[w].start()));
    await routerHandle.start();
  } catch (err) {
    await stop();
    throw err;
  }

  const token = (role: UserRole, sub: string, storeId?: string) =>
    signUserToken({ sub, role, ...(storeId ? { storeId } : {}) }, { secret: jwtSecret, expiresIn: '1h' });
  const routerUrl = routerHandle.current.url;
  return {
    url: routerUrl,
    get router() {
      return routerHandle.current;
    },
    async addRouter() {
      const replica = makeRouterHandle();
      replicas.push(replica);
      await replica.start();
      return replica;
    },
    routerHandle,
    dbPrefix,
    queuePrefix,
    subgraphs,
    workers,
    async gql<T>(tok: string | undefined, query: string, variables?: Record<string, unknown>, url = routerUrl) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(tok ? { authorization: `Bearer ${tok}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      let body: Omit<GqlResponse<T>, 'status'>;
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = { errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 200)}` }] };
      }
      return { status: res.status, ...body };
    },
    token,
    tokens: {
      customer: (sub = 'carol') => token('CUSTOMER', sub),
      staff: (storeId, sub = `staff-${storeId}`) => token('STAFF', sub, storeId),
      admin: (sub = 'ada') => token('ADMIN', sub),
    },
    db(subgraph) {
      let c = conns.get(subgraph);
      if (!c) {
        c = connectDatabase(mongoUri, `${dbPrefix}_${subgraph}`);
        conns.set(subgraph, c);
      }
      return c;
    },
    bus() {
      bus ??= new EventBus({ redisUrl, prefix: queuePrefix, logger });
      return bus;
    },
    envFor,
    stop,
  };
}
