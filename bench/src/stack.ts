/**
 * The system for a benchmark run, built on the shared harness
 * (`test/support/stack.ts`, `startStack`): items, reservations, stores,
 * rentals and the three workers each as a child process (`node --import tsx
 * <entry>`, as `npm start` runs them), and the measured router as a child
 * process too (`router/src/main.ts` with `SUBGRAPH_URLS` pointing at them), so
 * the load generator in this process shares an event loop with none of them.
 * (The harness's own in-process router stays up, idle; the bench only uses
 * the child router.)
 *
 * MongoDB and Redis: `MONGODB_URI` / `REDIS_URL` when set, else servers we
 * start with infra/local (`startMongo` / `startRedis`) in a fresh folder under
 * `.data/`, removed at the end. The harness gives the run its own database and
 * queue prefix and drops / obliterates them when it stops.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { startMongo, type MongoServer } from '../../infra/local/mongo.js';
import { dataPath, REPO_ROOT } from '../../infra/local/paths.js';
import { freePort } from '../../infra/local/ports.js';
import { ServerProcess, sleep } from '../../infra/local/proc.js';
import { startRedis, type RedisServer } from '../../infra/local/redis.js';
import { randomSecret } from '../../infra/local/secrets.js';
import { waitForHttpOk } from '../../infra/local/supervisor.js';
import { SUBGRAPHS, WORKERS, profilingArgs, startStack as startHarness, type Stack as Harness, type SubgraphName } from '../../test/support/stack.js';
import type { UserRole } from '@rental/auth';

export { SUBGRAPHS, type SubgraphName };

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface Stack {
  /** The measured router's GraphQL URL (child process). */
  routerUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  /** The reservations worker's `/metrics` (its WORKER_HEALTH_PORT; e.g. `event_lag_seconds`). */
  reservationsWorkerMetricsUrl: string;
  /** Environment of the services (secrets, URLs, prefixes). */
  env: Record<string, string>;
  harness: Harness;
  /** Which servers were used (for the results file). */
  servers: { mongo: string; redis: string };
  /** The database server (FerretDB's debug URL and PostgreSQL cluster when it is ours). */
  mongo: MongoServer;
  /** Every process of the system with its pid: router, subgraphs, workers, database tier, Redis (not the bench itself). */
  processes(): Array<{ name: string; pid: number }>;
  /** Folder for this run's logs and temporary files. */
  dir: string;
  token(role: UserRole, sub: string, storeId?: string): Promise<string>;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string, url?: string): Promise<GqlResult<T>>;
  db(subgraph: SubgraphName): Promise<Connection>;
  /** Spawns `node --import tsx <entry>` with the services' environment (plus `env`), logging to the run folder. */
  spawn(name: string, entry: string, env?: Record<string, string>): ServerProcess;
  /** Waits for `GET <url>` to answer 2xx, or throws with the process's output. */
  ready(p: ServerProcess, url: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Settings that differ from `npm start`'s: none that change what is measured.
 * The harness sets OUTBOX_SWEEP_MS to 500 for its tests; the bench puts
 * back the default (5000), so background sweeps cost what they cost in a
 * deployment. Recorded in every results file.
 */
export const BENCH_ENV = { OUTBOX_SWEEP_MS: '5000' };

const log = (line: string) => console.log(`[stack] ${line}`);

/** The pipeline is up when a reservation through the router gets its store order. */
async function waitForPipeline(stack: Stack, timeoutMs: number): Promise<void> {
  const admin = await stack.token('ADMIN', 'bench-admin');
  const storeId = `warmup-${randomBytes(3).toString('hex')}`;
  const store = await stack.gql('mutation($i: CreateStoreInput!) { createStore(input: $i) { id } }', { i: { id: storeId, name: 'Warm-up', city: 'Bench' } }, admin);
  if (store.errors) throw new Error(`createStore failed: ${JSON.stringify(store.errors)}`);
  const staff = await stack.token('STAFF', 'bench-staff', storeId);
  const item = await stack.gql<{ registerItem: { id: string } }>(
    'mutation($i: RegisterItemInput!) { registerItem(input: $i) { id } }',
    { i: { storeId, name: 'Warm-up item', category: 'camera', dailyRate: 100, stock: 1 } },
    staff,
  );
  if (!item.data) throw new Error(`registerItem failed: ${JSON.stringify(item.errors)}`);
  const customer = await stack.token('CUSTOMER', 'bench-warmup');
  const res = await stack.gql<{ createReservation: { id: string } }>(
    'mutation($i: CreateReservationInput!) { createReservation(input: $i) { id status } }',
    { i: { itemId: item.data.registerItem.id, quantity: 1, startDate: '2030-01-01', endDate: '2030-01-02', paymentToken: 'tok_approve' } },
    customer,
  );
  if (!res.data) throw new Error(`createReservation failed: ${JSON.stringify(res.errors)}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const orders = await stack.gql<{ storeOrders: { edges: Array<{ node: { id: string } }> } }>(
      'query($s: ID!) { storeOrders(storeId: $s, first: 1) { edges { node { id } } } }',
      { s: storeId },
      staff,
    );
    if ((orders.data?.storeOrders.edges.length ?? 0) > 0) return;
    await sleep(100);
  }
  throw new Error('the store order of a warm-up reservation did not appear (are the workers running?)');
}

export async function startStack(): Promise<Stack> {
  const id = randomBytes(4).toString('hex');
  const dir = dataPath(`bench-${process.pid}-${id}`);
  fs.mkdirSync(dir, { recursive: true });
  const procs: ServerProcess[] = [];
  let mongo: MongoServer | undefined;
  let redis: RedisServer | undefined;
  let harness: Harness | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...procs].reverse().map((p) => p.stop(10_000)));
    await harness?.stop();
    await Promise.all([redis?.stop(), mongo?.stop()]);
    if (process.env.BENCH_KEEP_LOGS !== '1') fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    mongo = await startMongo({ dataDir: path.join(dir, 'mongo'), log });
    redis = await startRedis({ dataDir: path.join(dir, 'redis'), log });
    log(`MongoDB: ${mongo.kind} (${mongo.reason}); Redis: ${redis.kind}`);
    process.env.MONGODB_URI = mongo.uri;
    process.env.REDIS_URL = redis.url;
    process.env.JWT_SECRET ||= randomSecret();
    process.env.INTERNAL_JWT_SECRET ||= randomSecret();
    log('starting subgraphs and workers (child processes)…');
    const workerHealthPort = await freePort();
    harness = await startHarness({
      tag: 'bench',
      processes: [...SUBGRAPHS, ...WORKERS],
      logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn',
      env: { all: BENCH_ENV, 'reservations-worker': { WORKER_HEALTH_PORT: String(workerHealthPort) } },
    });
    const h = harness;
    const dbServer = mongo;
    const redisPid = redis.pid;
    const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((s) => [s, h.subgraphs[s].url])) as Record<SubgraphName, string>;
    const env = h.envFor('items');
    for (const key of ['ITEMS_PORT']) delete env[key];
    const spawn = (name: string, entry: string, extra: Record<string, string> = {}) => {
      const p = new ServerProcess(name, process.execPath, [...profilingArgs(), '--import', 'tsx', entry], path.join(dir, `${name}.log`), {
        cwd: REPO_ROOT,
        env: { ...env, ...extra },
      });
      procs.push(p);
      return p;
    };
    const ready = async (p: ServerProcess, url: string) => {
      if (!(await waitForHttpOk(url, 90_000, () => p.hasExited))) throw new Error(`${p.name} did not become ready:\n${p.lastOutput()}`);
    };
    const routerPort = await freePort();
    const router = spawn('router', 'router/src/main.ts', {
      ROUTER_PORT: String(routerPort),
      SUPERGRAPH_PATH: path.join(REPO_ROOT, 'schema/supergraph.graphql'),
      SUPERGRAPH_WATCH: 'false',
      SUBGRAPH_URLS: SUBGRAPHS.map((s) => `${s}=${subgraphUrls[s]}`).join(','),
    });
    await ready(router, `http://127.0.0.1:${routerPort}/readyz`);

    const routerUrl = `http://127.0.0.1:${routerPort}/graphql`;
    const stack: Stack = {
      routerUrl,
      subgraphUrls,
      reservationsWorkerMetricsUrl: `http://127.0.0.1:${workerHealthPort}/metrics`,
      env,
      harness: h,
      servers: { mongo: `${mongo.kind} (${mongo.reason})`, redis: redis.kind },
      mongo: dbServer,
      processes() {
        const list: Array<{ name: string; pid: number | undefined }> = [
          { name: 'router', pid: router.pid },
          ...SUBGRAPHS.map((s) => ({ name: s, pid: h.subgraphs[s].pid })),
          ...WORKERS.map((w) => ({ name: w, pid: h.workers[w].pid })),
          ...dbServer.processes.map((p) => ({ name: p.name, pid: p.pid })),
          { name: 'redis', pid: redisPid },
        ];
        return list.filter((p): p is { name: string; pid: number } => p.pid !== undefined);
      },
      dir,
      token: (role, sub, storeId) => h.token(role, sub, storeId),
      async gql(query, variables, token, url = routerUrl) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        const text = await res.text();
        try {
          return { status: res.status, ...(JSON.parse(text) as object) };
        } catch {
          return { status: res.status, errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 200)}` }] };
        }
      },
      db: (s) => h.db(s),
      spawn,
      ready,
      stop,
    };
    await waitForPipeline(stack, 60_000);
    log(`up: router ${routerUrl}`);
    return stack;
  } catch (err) {
    process.env.BENCH_KEEP_LOGS = '1';
    await stop();
    throw err;
  }
}
