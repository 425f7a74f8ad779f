/**
 * Test support (used by the *.test.ts files only): starts the REAL items and
 * rentals subgraphs in-process, then the reservations API (and, on demand,
 * its worker), each with databases and a queue prefix of their own; calls
 * them over HTTP with signed identities; cleans everything up afterwards.
 */
import { callSubgraph, type SubgraphResponse } from '@rental/subgraph-server/testing';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Identity } from '@rental/auth';
import { parseConfig } from '@rental/config';
import { connectDatabase, mongoose } from '@rental/db';
import { EventBus } from '@rental/events';
import { createLogger } from '@rental/observability';
import { itemsConfigShape, startItems, type ItemsConfig, type RunningItems } from '@rental/items';
import { rentalsConfigShape, startRentals, startRentalsWorker, type RunningRentals, type RunningRentalsWorker } from '@rental/rentals';
import { reservationsConfigShape, type ReservationsConfig } from './config.js';
import { startReservations, type ReservationsOverrides, type RunningReservations } from './app.js';
import { startReservationsWorker, type RunningReservationsWorker } from './worker.js';
import type { ReservationDoc } from './data/index.js';

export type GraphQLResponse<T = Record<string, unknown>> = SubgraphResponse<T>;

export const as = {
  anonymous: { sub: 'anonymous', role: 'ANONYMOUS' } as Identity,
  customer: (sub = 'carol'): Identity => ({ sub, role: 'CUSTOMER' }),
  admin: { sub: 'ada', role: 'ADMIN' } as Identity,
  staff: (storeId: string): Identity => ({ sub: `staff-of-${storeId}`, role: 'STAFF', storeId }),
};

export const testLogger = createLogger('reservations-test', process.env.TEST_LOG_LEVEL ?? 'silent');

export const RESERVATION_FIELDS = 'id customerId status quantity startDate endDate totalPrice item { id } storeId history { status at reason } createdAt';
export const CREATE = `mutation Create($input: CreateReservationInput!) { createReservation(input: $input) { ${RESERVATION_FIELDS} } }`;
export const CANCEL = `mutation Cancel($id: ID!, $reason: String) { cancelReservation(id: $id, reason: $reason) { ${RESERVATION_FIELDS} } }`;
export const GET = `query Get($id: ID!) { reservation(id: $id) { ${RESERVATION_FIELDS} } }`;

export interface ReservationView {
  id: string;
  customerId: string;
  status: string;
  quantity: number;
  startDate: string;
  endDate: string;
  totalPrice: number | null;
  item: { id: string };
  storeId: string;
  history: Array<{ status: string; at: string; reason: string | null }>;
  createdAt: string;
}

/** `YYYY-MM-DD` of today (UTC) plus `days`. */
export function day(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export function reservationInput(itemId: string, overrides: Record<string, unknown> = {}) {
  return { itemId, quantity: 1, startDate: day(1), endDate: day(4), paymentToken: 'tok_approve', ...overrides };
}

export interface SystemOptions {
  /** Reservations env overrides (timeouts, breaker, sweeper, …). */
  env?: Record<string, string>;
  /** Rentals env overrides. */
  rentalsEnv?: Record<string, string>;
  /** Start the reservations worker too. */
  withWorker?: boolean;
  /** Start the rentals worker (needed for hand-over: it learns readiness from StoreOrderPrepared). */
  withRentalsWorker?: boolean;
  api?: Omit<ReservationsOverrides, 'port' | 'dbPrefix' | 'queuePrefix' | 'logger'>;
}

export interface TestSystem {
  secret: string;
  dbPrefix: string;
  queuePrefix: string;
  config: ReservationsConfig;
  items: RunningItems;
  rentals: RunningRentals;
  rentalsWorker: RunningRentalsWorker | undefined;
  api: RunningReservations;
  worker: RunningReservationsWorker | undefined;
  /** A bus on the test's queue prefix: publish events as other subgraphs do, inspect queues. */
  bus: EventBus;
  /** Direct connections for checking what was written. */
  itemsDb: Connection;
  rentalsDb: Connection;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, identity?: Identity | null): Promise<GraphQLResponse<T>>;
  call<T>(url: string, query: string, variables?: Record<string, unknown>, identity?: Identity): Promise<GraphQLResponse<T>>;
  registerItem(input?: Partial<{ storeId: string; name: string; dailyRate: number; stock: number }>): Promise<string>;
  stockOf(itemId: string): Promise<number>;
  /** The reservation document as stored. */
  doc(id: string): Promise<ReservationDoc | null>;
  paymentOf(reservationId: string): Promise<{ status: string; amount: number } | null>;
  create(itemId: string, overrides?: Record<string, unknown>, customer?: Identity): Promise<GraphQLResponse<{ createReservation: ReservationView }>>;
  stopItems(): Promise<void>;
  /** Starts items again on the same port and database. */
  restartItems(): Promise<void>;
  /** Stops the reservations API and starts it again with `api` overrides. */
  restartApi(api?: SystemOptions['api'], env?: Record<string, string>): Promise<void>;
  startWorker(): Promise<RunningReservationsWorker>;
  stop(): Promise<void>;
}

export async function startTestSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const secret = process.env.INTERNAL_JWT_SECRET ?? randomBytes(24).toString('hex');
  const tag = randomBytes(5).toString('hex');
  const dbPrefix = `test_resv_${tag}`;
  const queuePrefix = `test_resv_${tag}`;
  const base = {
    ...process.env,
    INTERNAL_JWT_SECRET: secret,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    QUEUE_PREFIX: queuePrefix,
  } as Record<string, string>;

  const itemsConfig: ItemsConfig = parseConfig(itemsConfigShape, base);
  let items = await startItems(itemsConfig, { port: 0, dbPrefix });
  const itemsPort = items.port;
  const rentalsConfig = parseConfig(rentalsConfigShape, { ...base, OUTBOX_SWEEP_MS: '200', ...(options.rentalsEnv ?? {}) });
  const rentals = await startRentals(rentalsConfig, { port: 0, dbPrefix });
  const rentalsWorker = options.withRentalsWorker ? await startRentalsWorker(rentalsConfig, { dbPrefix }) : undefined;

  const configOf = (env: Record<string, string> = {}) =>
    parseConfig(reservationsConfigShape, {
      ...base,
      ITEMS_URL: items.url,
      RENTALS_URL: rentals.url,
      OUTBOX_SWEEP_MS: '200',
      SAGA_SWEEP_MS: '600000',
      CALL_BACKOFF_MS: '20',
      ...(options.env ?? {}),
      ...env,
    });
  let config = configOf();
  const logger = testLogger;
  let api = await startReservations(config, { port: 0, dbPrefix, queuePrefix, logger, ...(options.api ?? {}) });

  const itemsDb = await connectDatabase(itemsConfig.MONGODB_URI, items.dbName);
  const rentalsDb = await connectDatabase(itemsConfig.MONGODB_URI, rentals.dbName);
  const bus = new EventBus({ redisUrl: config.REDIS_URL, prefix: queuePrefix, logger });

  const call = <T>(url: string, query: string, variables?: Record<string, unknown>, identity: Identity | null = as.anonymous) =>
    callSubgraph<T>(url, secret, query, variables, identity);

  const t: TestSystem = {
    secret,
    dbPrefix,
    queuePrefix,
    config,
    items,
    rentals,
    rentalsWorker,
    api,
    worker: undefined,
    bus,
    itemsDb,
    rentalsDb,
    gql: (query, variables, identity = as.customer()) => call(t.api.url, query, variables, identity),
    call: (url, query, variables, identity) => call(url, query, variables, identity),
    async registerItem(input = {}) {
      const res = await call<{ registerItem: { id: string } }>(
        t.items.url,
        'mutation R($input: RegisterItemInput!) { registerItem(input: $input) { id } }',
        { input: { storeId: 'store-1', name: 'Camera', category: 'cameras', dailyRate: 1000, stock: 5, ...input } },
        as.admin,
      );
      if (!res.data?.registerItem) throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
      return res.data.registerItem.id;
    },
    async stockOf(itemId) {
      const doc = await itemsDb.collection('items').findOne({ _id: new mongoose.Types.ObjectId(itemId) });
      if (!doc) throw new Error(`no item ${itemId}`);
      return doc.stock as number;
    },
    doc: (id) => t.api.data.findById(id),
    async paymentOf(reservationId) {
      const rental = await rentalsDb.collection('rentals').findOne({ reservationId });
      const payment = rental?.payment as { status: string; amount: number } | undefined;
      return payment ? { status: payment.status, amount: payment.amount } : null;
    },
    create: (itemId, overrides = {}, customer = as.customer()) =>
      call(t.api.url, CREATE, { input: reservationInput(itemId, overrides) }, customer),
    async stopItems() {
      await t.items.stop();
    },
    async restartItems() {
      items = await startItems(itemsConfig, { port: itemsPort, dbName: t.items.dbName });
      t.items = items;
    },
    async restartApi(apiOverrides = {}, env = {}) {
      await t.api.stop();
      config = configOf(env);
      t.config = config;
      api = await startReservations(config, { port: 0, dbPrefix, queuePrefix, logger, ...apiOverrides });
      t.api = api;
    },
    async startWorker() {
      t.worker ??= await startReservationsWorker(t.config, { dbPrefix, queuePrefix, logger });
      return t.worker;
    },
    async stop() {
      await t.worker?.stop();
      await t.api.stop();
      await t.rentalsWorker?.stop();
      await t.rentals.stop();
      await t.items.stop();
      for (const q of bus.allQueues()) await q.obliterate({ force: true }).catch(() => undefined);
      await bus.close();
      const resvDb = await connectDatabase(config.MONGODB_URI, t.api.dbName);
      for (const db of [resvDb, itemsDb, rentalsDb]) {
        await db.dropDatabase().catch(() => undefined);
        await db.close();
      }
    },
  };
  if (options.withWorker) await t.startWorker();
  return t;
}

/** Polls until a condition holds (one helper for every test: `@rental/subgraph-server/testing`). */
export { eventually } from '@rental/subgraph-server/testing';

/** What a {@link FaultProxy} does with an operation. */
export type FaultRule =
  | 'pass'
  /** Answer HTTP 503 without forwarding. */
  | 'fail'
  /** Forward it (the effect happens), then never answer: a timeout after the fact. */
  | 'forward-then-hang';

export interface FaultProxy {
  url: string;
  /** Rule per GraphQL operationName; unlisted operations pass. */
  rules: Map<string, FaultRule>;
  /** Requests seen per operation name. */
  seen: Map<string, number>;
  stop(): Promise<void>;
}

/** An HTTP proxy in front of a subgraph that injects failures per operation. */
export async function startFaultProxy(targetUrl: () => string): Promise<FaultProxy> {
  const { createServer } = await import('node:http');
  const rules = new Map<string, FaultRule>();
  const seen = new Map<string, number>();
  const hanging = new Set<import('node:http').ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let operation = '';
        try {
          operation = (JSON.parse(body) as { operationName?: string }).operationName ?? '';
        } catch {
          // not JSON: just forward
        }
        seen.set(operation, (seen.get(operation) ?? 0) + 1);
        const rule = rules.get(operation) ?? 'pass';
        if (rule === 'fail') {
          res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
        }
        try {
          const upstream = await fetch(targetUrl(), { method: 'POST', headers, body });
          const text = await upstream.text();
          if (rule === 'forward-then-hang') {
            hanging.add(res);
            res.on('close', () => hanging.delete(res));
            return;
          }
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(text);
        } catch {
          res.writeHead(502).end('bad gateway');
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    rules,
    seen,
    async stop() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
