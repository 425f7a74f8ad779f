/**
 * Test support (used by the *.test.ts files only): starts the rentals API and
 * worker with a database and queue prefix of their own, calls the API over
 * HTTP with a signed identity, publishes events the way other subgraphs do,
 * and cleans everything up afterwards.
 */
import { callSubgraph, type SubgraphResponse } from '@rental/subgraph-server/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Connection, mongo } from 'mongoose';
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
type CommandStartedEvent = mongo.CommandStartedEvent;

export const as = {
  anonymous: { sub: 'anonymous', role: 'ANONYMOUS' } as Identity,
  customer: (sub = 'carol'): Identity => ({ sub, role: 'CUSTOMER' }),
  admin: { sub: 'ada', role: 'ADMIN' } as Identity,
  service: { sub: 'reservations', role: 'SERVICE' } as Identity,
  staff: (storeId: string): Identity => ({ sub: `staff-of-${storeId}`, role: 'STAFF', storeId }),
};

/**
 * Wraps a provider, counts its calls and keeps the books a real provider
 * keeps per reference, by the contract in `payments/provider.ts`: a repeated
 * charge answers the first answer and moves no money; a refund gives back
 * what is held under the reference (nothing, for a void before any charge).
 * Rentals calls the provider again with the same reference by design (a
 * duplicate charge learns it is one only from its refused insert), so tests
 * prove "charged once, given back" on these books, not on call counts.
 *
 * It also lets a test hold a reference's charges at the provider (a slow
 * charge, to let a refund overtake it) and make refunds fail (an outage).
 */
export class CountingProvider implements PaymentProvider {
  readonly name: string;
  charges: ChargeRequest[] = [];
  refunds: RefundRequest[] = [];
  private readonly firstAnswers = new Map<string, ChargeResult>();
  private readonly held = new Map<string, number>();
  private readonly charged = new Map<string, number>();
  private readonly givenBack = new Map<string, number>();
  private readonly gates = new Map<string, Promise<void>>();
  private failingRefunds = 0;

  constructor(private readonly inner: PaymentProvider = new SandboxPaymentProvider()) {
    this.name = inner.name;
  }
  supportsToken(token: string): boolean {
    return this.inner.supportsToken(token);
  }
  async charge(request: ChargeRequest): Promise<ChargeResult> {
    this.charges.push(request);
    const gate = this.gates.get(request.reference);
    if (gate) await gate;
    const answer = await this.inner.charge(request);
    const first = this.firstAnswers.get(request.reference);
    if (first) return first;
    this.firstAnswers.set(request.reference, answer);
    if (answer.status === 'PAID') {
      this.held.set(request.reference, (this.held.get(request.reference) ?? 0) + request.amount);
      this.charged.set(request.reference, (this.charged.get(request.reference) ?? 0) + request.amount);
    }
    return answer;
  }
  async refund(request: RefundRequest): Promise<RefundResult> {
    this.refunds.push(request);
    if (this.failingRefunds > 0) {
      this.failingRefunds -= 1;
      throw new Error('provider outage (test)');
    }
    const answer = await this.inner.refund(request);
    const back = this.held.get(request.reference) ?? 0;
    this.held.set(request.reference, 0);
    this.givenBack.set(request.reference, (this.givenBack.get(request.reference) ?? 0) + back);
    return answer;
  }
  /** Holds every charge of `reference` at the provider until the returned function is called. */
  holdCharges(reference: string): () => void {
    let release!: () => void;
    this.gates.set(reference, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      this.gates.delete(reference);
      release();
    };
  }
  /** The next `n` refunds fail without an answer (a provider outage). */
  failNextRefunds(n = 1): void {
    this.failingRefunds = n;
  }
  /** Money taken under `reference`, ever (a charge moves money once, however often it is called). */
  chargedFor(reference: string): number {
    return this.charged.get(reference) ?? 0;
  }
  /** Money given back under `reference`, ever. */
  givenBackFor(reference: string): number {
    return this.givenBack.get(reference) ?? 0;
  }
  /** Money the provider holds under `reference` now. */
  heldFor(reference: string): number {
    return this.held.get(reference) ?? 0;
  }
  chargesFor(reference: string): number {
    return this.charges.filter((c) => c.reference === reference).length;
  }
  refundsFor(reference: string): number {
    return this.refunds.filter((c) => c.reference === reference).length;
  }
}

/** The commands the database server counts as finds and writes (as `bench/src/db-counters.ts` does). */
const DATA_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'find', 'aggregate', 'count', 'distinct', 'getMore']);

/** `MONGODB_URI` with command monitoring on, so a test can see every command a connection sends. */
function withCommandMonitoring(uri: string): string {
  const url = new URL(uri);
  url.searchParams.set('monitorCommands', 'true');
  return url.toString();
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
  /** `chargePayment` as the saga calls it. */
  charge(input: Record<string, unknown>): Promise<GraphQLResponse<{ chargePayment: Payment }>>;
  /** `refundPayment` as the saga calls it. */
  refund(reservationId: string): Promise<GraphQLResponse<{ refundPayment: Payment | null }>>;
  /** The reservation's rental as an admin sees it through the `Reservation` entity (`null`: none shown). */
  rentalOf(reservationId: string): Promise<Rental | null>;
  /**
   * Runs `fn` and lists the finds and writes the API process sent meanwhile,
   * as `<command> <collection>` (e.g. `insert rentals`), in order.
   */
  commandsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }>;
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
  config.MONGODB_URI = withCommandMonitoring(config.MONGODB_URI);
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
    charge: (input) => t.gql(CHARGE, { input }, as.service),
    refund: (reservationId) => t.gql(REFUND, { r: reservationId }, as.service),
    async rentalOf(reservationId) {
      const res = await t.gql<{ _entities: Array<{ rental: Rental | null }> }>(
        RESERVATION_RENTAL,
        { reps: [{ __typename: 'Reservation', id: reservationId }] },
        as.admin,
      );
      if (res.errors) throw new Error(`rentalOf: ${JSON.stringify(res.errors)}`);
      return res.data?._entities[0]?.rental ?? null;
    },
    async commandsDuring(fn) {
      const commands: string[] = [];
      const client = api.runtime.conn.getClient();
      const listener = (event: CommandStartedEvent) => {
        if (DATA_COMMANDS.has(event.commandName)) commands.push(`${event.commandName} ${String(event.command[event.commandName])}`);
      };
      client.on('commandStarted', listener);
      try {
        const result = await fn();
        return { result, commands };
      } finally {
        client.off('commandStarted', listener);
      }
    },
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

/** Polls until a condition holds (one helper for every test: `@rental/subgraph-server/testing`). */
export { eventually } from '@rental/subgraph-server/testing';
