/**
 * Helpers for the stores integration tests (real FerretDB/MongoDB and Redis):
 * an isolated environment per test file (own database prefix and queue
 * prefix), GraphQL over real HTTP with a signed identity header, an event
 * bus to publish with, polling, and clean-up. Not used by production code.
 */
import { callSubgraph } from '@rental/subgraph-server/testing';
import { randomUUID } from 'node:crypto';
import type { Identity } from '@rental/auth';
import { parseConfig } from '@rental/config';
import { connectDatabase, databaseName } from '@rental/db';
import { createEvent, EventBus, type EventOf, type EventPayload } from '@rental/events';
import { createLogger } from '@rental/observability';
import { storesConfigShape, type StoresConfig } from './config.js';
import { startStores, type RunningStores, type StoresRunOptions } from './app.js';
import { startStoresWorker, type RunningStoresWorker } from './worker.js';

export const ADMIN: Identity = { sub: 'admin-1', role: 'ADMIN' };
export const ANON: Identity = { sub: 'anonymous', role: 'ANONYMOUS' };
export const customer = (sub: string): Identity => ({ sub, role: 'CUSTOMER' });
export const staff = (storeId: string, sub = `staff-${storeId}`): Identity => ({ sub, role: 'STAFF', storeId });

export interface GraphQLResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string; [k: string]: unknown } }[];
}

export interface StoresTestEnv {
  config: StoresConfig;
  opts: StoresRunOptions;
  api: RunningStores;
  bus: EventBus;
  worker?: RunningStoresWorker;
  startWorker(): Promise<RunningStoresWorker>;
  stopWorker(): Promise<void>;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, identity?: Identity | null): Promise<GraphQLResult<T>>;
  close(): Promise<void>;
}

export async function startTestEnv(withWorker = true): Promise<StoresTestEnv> {
  const tag = randomUUID().slice(0, 8);
  const config = parseConfig(storesConfigShape, {
    ...process.env,
    INTERNAL_JWT_SECRET: process.env.INTERNAL_JWT_SECRET ?? 'stores-test-internal-secret-0123456789',
    STORES_PORT: '0',
    OUTBOX_SWEEP_MS: '200',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const logger = createLogger('stores-test', config.LOG_LEVEL);
  const opts: StoresRunOptions = { dbPrefix: `t_stores_${tag}`, queuePrefix: `t-stores-${tag}`, logger };
  const api = await startStores(config, opts);
  const bus = new EventBus({ redisUrl: config.REDIS_URL, prefix: opts.queuePrefix!, attempts: 3, backoffMs: 100, logger });

  const env: StoresTestEnv = {
    config,
    opts,
    api,
    bus,
    async startWorker() {
      env.worker = await startStoresWorker(config, opts);
      return env.worker;
    },
    async stopWorker() {
      await env.worker?.stop();
      env.worker = undefined;
    },
    gql: (query, variables = {}, identity = ADMIN) => callSubgraph(api.url, config.INTERNAL_JWT_SECRET, query, variables, identity),
    async close() {
      await env.stopWorker();
      await api.stop();
      await Promise.all(bus.allQueues().map((q) => q.obliterate({ force: true })));
      await bus.close();
      const conn = await connectDatabase(config.MONGODB_URI, databaseName('stores', opts.dbPrefix));
      await conn.dropDatabase();
      await conn.close();
    },
  };
  if (withWorker) await env.startWorker();
  return env;
}

/** Polls `fn` until it returns something truthy; throws after `timeoutMs`. */
export async function until<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function confirmedEvent(overrides: Partial<EventPayload<'ReservationConfirmed'>> = {}): EventOf<'ReservationConfirmed'> {
  return createEvent('ReservationConfirmed', {
    reservationId: randomUUID(),
    customerId: 'cust-1',
    itemId: '65a1b2c3d4e5f60718293a4b',
    itemName: 'Canon EOS R6',
    storeId: 'S1',
    quantity: 1,
    startDate: '2027-03-01',
    endDate: '2027-03-04',
    totalPrice: 13500,
    ...overrides,
  });
}

export function cancelledEvent(reservationId: string, customerId = 'cust-1'): EventOf<'ReservationCancelled'> {
  return createEvent('ReservationCancelled', { reservationId, customerId, reason: 'customer changed plans' });
}

export function rentalStartedEvent(reservationId: string): EventOf<'RentalStarted'> {
  return createEvent('RentalStarted', { rentalId: randomUUID(), reservationId });
}

/** The jobs of one event type in a consumer's queue whose payload matches `match`. */
export async function queuedEvents(
  bus: EventBus,
  subgraph: 'reservations' | 'rentals' | 'stores',
  type: string,
  match: Record<string, unknown> = {},
): Promise<{ eventId: string; payload: Record<string, unknown> }[]> {
  const jobs = await bus.queue(subgraph).getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'paused', 'prioritized']);
  return jobs
    .filter((j) => j && j.name === type)
    .map((j) => j.data as { eventId: string; payload: Record<string, unknown> })
    .filter((d) => Object.entries(match).every(([k, v]) => d.payload[k] === v));
}
