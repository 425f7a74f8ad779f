/**
 * Test support (used by the *.test.ts files only): starts the rentals API and
 * worker with a database and queue prefix of their own, calls the API over
 * HTTP with a signed identity, publishes events the way other subgraphs do,
 * and cleans everything up afterwards.
 */
import { callSubgraph, type SubgraphResponse } from '@rental/subgraph-server/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Identity } from '@rental/auth';
import { parseConfig } from '@rental/config';
import { connectDatabase } from '@rental/db';
import { EventBus } from '@rental/events';
import { rentalsConfigShape, type RentalsConfig } from './config.js';
import { startRentals, type RunningRentals } from './app.js';
import { startRentalsWorker, type RunningRentalsWorker } from './worker.js';
import { SandboxPaymentProvider } from './payments/index.js';
import type { ChargeRequest, ChargeResult, PaymentProvider, RefundRequest, RefundResult } from './payments/index.js';

export type GraphQLResponse<T = Record<string, unknown>> = SubgraphResponse<T>;

export const as = {
  anonymous: { sub: 'anonymous', role: 'ANONYMOUS' } as Identity,
  customer: (sub = 'carol'): Identity => ({ sub, role: 'CUSTOMER' }),
  admin: { sub: 'ada', role: 'ADMIN' } as Identity,
  service: { sub: 'reservations', role: 'SERVICE' } as Identity,
  staff: (storeId: string): Identity => ({ sub: `staff-of-${storeId}`, role: 'STAFF', storeId }),
};

/** Wraps a provider and counts its calls, so tests can prove "charged once". */
export class CountingProvider implements PaymentProvider {
  readonly name: string;
  charges: ChargeRequest[] = [];
  refunds: RefundRequest[] = [];
  constructor(private readonly inner: PaymentProvider = new SandboxPaymentProvider()) {
    this.name = inner.name;
  }
  supportsToken(token: string): boolean {
    return this.inner.supportsToken(token);
  }
  charge(request: ChargeRequest): Promise<ChargeResult> {
    this.charges.push(request);
    return this.inner.charge(request);
  }
  refund(request: RefundRequest): Promise<RefundResult> {
    this.refunds.push(request);
    return this.inner.refund(request);
  }
  chargesFor(reference: string): number {
    return this.charges.filter((c) => c.reference === reference).length;
  }
  refundsFor(reference: string): number {
    return this.refunds.filter((c) => c.reference === reference).length;
  }
}

export interface TestRentals {
  config: RentalsConfig;
  api: RunningRentals;
  worker: RunningRentalsWorker | undefined;
  provider: CountingProvider;
  /** A second connection to the subgraph's database, for checking what was written. */
  db: Connection;
  /** A bus on the same queue prefix: publish events as other subgraphs do, inspect queues. */
  bus: EventBus;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    identity?: Identity | null,
  ): Promise<GraphQLResponse<T>>;
  /** Starts the worker (if not running). */
  startWorker(): Promise<RunningRentalsWorker>;
  stop(): Promise<void>;
}

export async function startTestRentals(env: Record<string, string> = {}, withWorker = true): Promise<TestRentals> {
  const secret = process.env.INTERNAL_JWT_SECRET ?? randomBytes(24).toString('hex');
  const config = parseConfig(rentalsConfigShape, {
    ...process.env,
    INTERNAL_JWT_SECRET: secret,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    QUEUE_PREFIX: `test_rentals_${randomBytes(6).toString('hex')}`,
    OUTBOX_SWEEP_MS: '200',
    ...env,
  });
  const dbPrefix = `test_${randomBytes(6).toString('hex')}`;
  const provider = new CountingProvider();
  const api = await startRentals(config, { port: 0, dbPrefix, paymentProvider: provider });
  const db = await connectDatabase(config.MONGODB_URI, api.dbName);
  const bus = new EventBus({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });

  const t: TestRentals = {
    config,
    api,
    worker: undefined,
    provider,
    db,
    bus,
    gql: (query, variables, identity = as.anonymous) => callSubgraph(api.url, secret, query, variables, identity),
    async startWorker() {
      t.worker ??= await startRentalsWorker(config, { dbPrefix, paymentProvider: provider });
      return t.worker;
    },
    async stop() {
      await t.worker?.stop();
      await api.stop();
      for (const q of bus.allQueues()) await q.obliterate({ force: true }).catch(() => undefined);
      await bus.close();
      await db.dropDatabase();
      await db.close();
    },
  };
  if (withWorker) await t.startWorker();
  return t;
}

export const PAYMENT_FIELDS = 'id status amount currency reason';
export const RENTAL_FIELDS = `id reservationId status storeId itemId quantity readyForPickup startedAt returnedAt payment { ${PAYMENT_FIELDS} }`;

export const CHARGE = `mutation Charge($input: ChargePaymentInput!) { chargePayment(input: $input) { ${PAYMENT_FIELDS} } }`;
export const REFUND = `mutation Refund($r: ID!) { refundPayment(reservationId: $r) { ${PAYMENT_FIELDS} } }`;
export const START = `mutation Start($r: ID!) { startRental(reservationId: $r) { ${RENTAL_FIELDS} } }`;
export const RETURN = `mutation Return($id: ID!) { returnRental(rentalId: $id) { ${RENTAL_FIELDS} } }`;
export const RENTAL = `query Rental($id: ID!) { rental(id: $id) { ${RENTAL_FIELDS} } }`;
export const RESERVATION_RENTAL = `query Entities($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Reservation { id rental { ${RENTAL_FIELDS} } } }
}`;

export interface Payment {
  id: string;
  status: string;
  amount: number;
  currency: string;
  reason: string | null;
}
export interface Rental {
  id: string;
  reservationId: string;
  status: string;
  storeId: string;
  itemId: string;
  quantity: number;
  readyForPickup: boolean;
  startedAt: string | null;
  returnedAt: string | null;
  payment: Payment;
}

export function chargeInput(overrides: Partial<Record<string, unknown>> = {}) {
  return {
    reservationId: randomUUID(),
    customerId: 'carol',
    storeId: 'store-1',
    itemId: 'item-1',
    quantity: 2,
    amount: 6000,
    paymentToken: 'tok_approve',
    ...overrides,
  };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
