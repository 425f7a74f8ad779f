/**
 * Every way createReservation can end, with the dependencies and the
 * database replaced by recorders: what is undone (release, refund), which
 * status the reservation ends in with which event, and what the client gets.
 * The HTTP-level tests (saga, sweeper, resilience) drive the same paths
 * through real subgraphs; this one pins the whole table of `create`'s doc
 * comment, including the paths a real system reaches only by racing the
 * sweeper.
 */
import { describe, expect, it } from 'vitest';
import type { Identity } from '@rental/auth';
import { DomainError } from '@rental/errors';
import type { DomainEvent } from '@rental/events';
import { createLogger } from '@rental/observability';
import type { MoveOptions, ReservationDoc, ReservationsData } from '../data/index.js';
import type { Transition } from '../domain/index.js';
import { DependencyFailure } from './dependency.js';
import type { ItemsClient, StockHold } from './items-client.js';
import type { Payment, RentalsClient } from './rentals-client.js';
import { ReservationSaga } from './reservation-saga.js';

const CUSTOMER: Identity = { sub: 'carol', role: 'CUSTOMER' };
const ITEM = { id: 'item-1', name: 'Drone', storeId: 'store-1', dailyRate: 1250, stock: 5 };
const INPUT = { itemId: ITEM.id, quantity: 2, startDate: '2031-03-01', endDate: '2031-03-04', paymentToken: 'tok_approve' };

const timeout = (dependency: 'items' | 'rentals', maybeApplied: boolean) =>
  new DependencyFailure(dependency, 'timeout', 'no answer within 500 ms', maybeApplied, true);
const databaseDown = () => Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' });

type Step<T> = T | Error | ((input: unknown) => T | Error);

interface Script {
  hold?: Step<Partial<StockHold>>;
  release?: Step<null>;
  charge?: Step<Payment>;
  refund?: Step<Payment | null>;
  /** What each move answers, by target status: the moved document (default), null (the sweeper owns it), or an error. */
  move?: Partial<Record<string, 'moved' | null | Error>>;
}

/** Runs one createReservation against recorders; resolves to what was done and how it ended. */
async function create(script: Script = {}) {
  const trace: string[] = [];
  const moves: Array<{ to: string; reason: string | null; set: Record<string, unknown>; events: string[] }> = [];
  const published: DomainEvent[] = [];
  const answer = <T>(name: string, step: Step<T> | undefined, fallback: T, input?: unknown): Promise<T> => {
    trace.push(name);
    const value = typeof step === 'function' ? (step as (i: unknown) => T | Error)(input) : step === undefined ? fallback : step;
    return value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
  };
  let pending: ReservationDoc | undefined;
  const data = {
    async insertPending(fields: Record<string, unknown>, at: Date) {
      trace.push('insert PENDING');
      pending = { ...fields, status: 'PENDING', dailyRate: null, totalPrice: null, createdAt: at } as unknown as ReservationDoc;
      return pending;
    },
    async move(_id: string, steps: readonly Transition[], options: MoveOptions) {
      const step = steps[0]!;
      trace.push(`move ${step.from} → ${step.to}`);
      const outcome = script.move && step.to in script.move ? script.move[step.to] : 'moved';
      if (outcome instanceof Error) throw outcome;
      if (outcome === null) return null;
      moves.push({ to: step.to, reason: step.reason ?? null, set: options.set ?? {}, events: (options.events ?? []).map((e) => e.type) });
      return { ...pending!, status: step.to, ...(options.set ?? {}) };
    },
  } as unknown as ReservationsData;
  const items = {
    wasShort: () => false,
    getItemFacts: async () => ITEM,
    holdStock: async (reservationId: string, itemId: string, quantity: number) => {
      const hold = await answer<Partial<StockHold>>('holdStock', script.hold, {}, { reservationId, itemId, quantity });
      return { reservationId, itemId, quantity, released: false, item: ITEM, ...hold };
    },
    releaseStock: () => answer('releaseStock', script.release, null),
  } as unknown as ItemsClient;
  const rentals = {
    chargePayment: (input: { amount: number }) => answer('chargePayment', script.charge, { status: 'PAID', amount: input.amount }, input),
    refundPayment: () => answer('refundPayment', script.refund, null),
  } as unknown as RentalsClient;
  const saga = new ReservationSaga({
    data,
    items,
    rentals,
    publish: async (_id, events) => void published.push(...events),
    logger: createLogger('saga-test', 'silent'),
    now: () => new Date('2031-02-01T00:00:00Z'),
  });
  try {
    const doc = await saga.create(CUSTOMER, INPUT);
    return { trace, moves, published: published.map((e) => e.type), doc, error: undefined };
  } catch (error) {
    return { trace, moves, published: published.map((e) => e.type), doc: undefined, error: error as Error & Partial<DomainError> };
  }
}

const PRICED = { dailyRate: 1250, totalPrice: 2 * 1250 * 3 };

describe('createReservation, every ending', () => {
  it('all steps answer: hold, charge, CONFIRMED priced with ReservationConfirmed', async () => {
    const r = await create();
    expect(r.error).toBeUndefined();
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'move PENDING → CONFIRMED']);
    expect(r.moves).toEqual([{ to: 'CONFIRMED', reason: null, set: PRICED, events: ['ReservationConfirmed'] }]);
    expect(r.published).toEqual(['ReservationConfirmed']);
    expect(r.doc).toMatchObject({ status: 'CONFIRMED', ...PRICED });
  });

  it('holdStock answers INSUFFICIENT_STOCK: nothing undone, REJECTED with it, that error', async () => {
    const short = new DomainError('INSUFFICIENT_STOCK', 'item item-1 has 1 unit(s) in stock, 2 requested');
    const r = await create({ hold: short });
    expect(r.error).toBe(short);
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'move PENDING → REJECTED']);
    expect(r.moves).toEqual([{ to: 'REJECTED', reason: `INSUFFICIENT_STOCK: ${short.message}`, set: {}, events: ['ReservationRejected'] }]);
  });

  it('holdStock gives no answer and may have held: released, REJECTED SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE (items)', async () => {
    const r = await create({ hold: timeout('items', true) });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'items' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'releaseStock', 'move PENDING → REJECTED']);
    expect(r.moves[0]?.reason).toBe('SERVICE_UNAVAILABLE: items: no answer within 500 ms');
  });

  it('holdStock certainly did nothing (refused connection): nothing released, REJECTED', async () => {
    const r = await create({ hold: new DependencyFailure('items', 'refused', 'connection failed (ECONNREFUSED)', false, true) });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'items' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'move PENDING → REJECTED']);
  });

  it('holdStock answers a hold the sweeper already released: nothing undone, REJECTED, that plain error', async () => {
    const r = await create({ hold: { released: true } });
    expect(r.error).toBeInstanceOf(Error);
    expect(r.error).not.toBeInstanceOf(DomainError);
    expect(r.error?.message).toBe('hold already released');
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'move PENDING → REJECTED']);
    expect(r.moves[0]?.reason).toBe('SERVICE_UNAVAILABLE: items: hold already released');
  });

  it('holdStock gives no answer and the release fails too: PENDING stays for the sweeper, SERVICE_UNAVAILABLE (items)', async () => {
    const r = await create({ hold: timeout('items', true), release: timeout('items', true) });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'items' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'releaseStock']);
  });

  it('a release items refuses (not TRY_LATER) counts as done: REJECTED', async () => {
    const r = await create({ hold: timeout('items', true), release: new DomainError('NOT_FOUND', 'no such item') });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'releaseStock', 'move PENDING → REJECTED']);
  });

  it('the price exceeds the largest amount: released, REJECTED with BAD_USER_INPUT, that error', async () => {
    const r = await create({ hold: { item: { ...ITEM, dailyRate: 500_000_000 } } });
    expect(r.error).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'quantity' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'releaseStock', 'move PENDING → REJECTED']);
    expect(r.moves[0]).toMatchObject({ reason: expect.stringMatching(/^BAD_USER_INPUT: quantity: the total price 3000000000 exceeds/), set: {} });
  });

  it('chargePayment answers BAD_USER_INPUT: released, REJECTED priced, that error', async () => {
    const bad = new DomainError('BAD_USER_INPUT', 'paymentToken is not a known payment token', { field: 'paymentToken' });
    const r = await create({ charge: bad });
    expect(r.error).toBe(bad);
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'releaseStock', 'move PENDING → REJECTED']);
    expect(r.moves).toEqual([{ to: 'REJECTED', reason: `BAD_USER_INPUT: ${bad.message}`, set: PRICED, events: ['ReservationRejected'] }]);
  });

  it('chargePayment gives no answer and may have charged: refunded, released, REJECTED, SERVICE_UNAVAILABLE (rentals)', async () => {
    const r = await create({ charge: timeout('rentals', true) });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'rentals' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'refundPayment', 'releaseStock', 'move PENDING → REJECTED']);
    expect(r.moves[0]).toMatchObject({ reason: 'SERVICE_UNAVAILABLE: rentals: no answer within 500 ms', set: {} });
  });

  it('chargePayment certainly did nothing: released only, REJECTED', async () => {
    const r = await create({ charge: new DependencyFailure('rentals', 'open', 'circuit breaker is open', false, false) });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'releaseStock', 'move PENDING → REJECTED']);
  });

  it('the refund fails with TRY_LATER: PENDING stays, SERVICE_UNAVAILABLE (rentals)', async () => {
    const r = await create({ charge: timeout('rentals', true), refund: new DomainError('TRY_LATER', 'busy') });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'rentals' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'refundPayment', 'releaseStock']);
  });

  it('DECLINED: released, PAYMENT_FAILED priced with ReservationPaymentFailed, PAYMENT_DECLINED', async () => {
    const r = await create({ charge: { status: 'DECLINED', amount: 7500 } });
    expect(r.error).toMatchObject({ code: 'PAYMENT_DECLINED', message: 'the payment was declined', details: { paymentStatus: 'DECLINED' } });
    expect(r.error?.details?.reservationId).toEqual(expect.any(String));
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'releaseStock', 'move PENDING → PAYMENT_FAILED']);
    expect(r.moves).toEqual([{ to: 'PAYMENT_FAILED', reason: 'payment declined', set: PRICED, events: ['ReservationPaymentFailed'] }]);
    expect(r.published).toEqual(['ReservationPaymentFailed']);
  });

  it('FAILED (the provider never answered): a decline, reason "payment failed"', async () => {
    const r = await create({ charge: { status: 'FAILED', amount: 7500 } });
    expect(r.error).toMatchObject({ code: 'PAYMENT_DECLINED', message: 'the payment was not completed' });
    expect(r.moves[0]?.reason).toBe('payment failed');
  });

  it('REFUNDED (the sweeper settled it meanwhile): refunded again, released, PAYMENT_FAILED', async () => {
    const r = await create({ charge: { status: 'REFUNDED', amount: 7500 } });
    expect(r.error).toMatchObject({ code: 'PAYMENT_DECLINED', details: { paymentStatus: 'REFUNDED' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'refundPayment', 'releaseStock', 'move PENDING → PAYMENT_FAILED']);
    expect(r.moves[0]?.reason).toBe('payment refunded');
  });

  it('DECLINED and the release fails: PENDING stays, SERVICE_UNAVAILABLE (items)', async () => {
    const r = await create({ charge: { status: 'DECLINED', amount: 7500 }, release: timeout('items', true) });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'items' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'releaseStock']);
  });

  it('DECLINED and the sweeper owns the reservation: SERVICE_UNAVAILABLE (reservations), nothing published', async () => {
    const r = await create({ charge: { status: 'DECLINED', amount: 7500 }, move: { PAYMENT_FAILED: null } });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'reservations' } });
    expect(r.published).toEqual([]);
  });

  it('the sweeper took the reservation over before the confirm: refunded, released, SERVICE_UNAVAILABLE (reservations)', async () => {
    const r = await create({ move: { CONFIRMED: null } });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'reservations' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'move PENDING → CONFIRMED', 'refundPayment', 'releaseStock']);
    expect(r.published).toEqual([]);
  });

  it('the same when that undo fails: still SERVICE_UNAVAILABLE (reservations)', async () => {
    const r = await create({ move: { CONFIRMED: null }, refund: timeout('rentals', true) });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'reservations' } });
  });

  it('our database fails at the confirm: nothing undone, SERVICE_UNAVAILABLE (database)', async () => {
    const r = await create({ move: { CONFIRMED: databaseDown() } });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'database' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'chargePayment', 'move PENDING → CONFIRMED']);
  });

  it('our database fails at the REJECTED write after an undo: SERVICE_UNAVAILABLE (database) instead of the step\'s error', async () => {
    const r = await create({ hold: timeout('items', true), move: { REJECTED: databaseDown() } });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'database' } });
    expect(r.trace).toEqual(['insert PENDING', 'holdStock', 'releaseStock', 'move PENDING → REJECTED']);
  });

  it('our database fails at the PAYMENT_FAILED write: SERVICE_UNAVAILABLE (database)', async () => {
    const r = await create({ charge: { status: 'DECLINED', amount: 7500 }, move: { PAYMENT_FAILED: databaseDown() } });
    expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { dependency: 'database' } });
  });

  it('holdStock and chargePayment are asked with the reservation id, the item, the quantity and the price', async () => {
    const asked: unknown[] = [];
    await create({ hold: (input) => (asked.push(input), {}), charge: (input) => (asked.push(input), { status: 'PAID', amount: 7500 }) });
    const [hold, charge] = asked as Array<Record<string, unknown>>;
    expect(hold).toEqual({ reservationId: expect.any(String), itemId: ITEM.id, quantity: 2 });
    expect(charge).toEqual({
      reservationId: hold!.reservationId,
      customerId: 'carol',
      storeId: ITEM.storeId,
      itemId: ITEM.id,
      quantity: 2,
      amount: 7500,
      paymentToken: 'tok_approve',
    });
  });
});
