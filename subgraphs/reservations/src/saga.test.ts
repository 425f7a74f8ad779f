/** The saga against the real items and rentals subgraphs, real FerretDB and Redis. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoose } from '@rental/db';
import { CANCEL, GET, as, day, eventually, startTestSystem, type ReservationView, type TestSystem } from './testing.js';

let t: TestSystem;
beforeAll(async () => {
  // Rentals gives up on the provider after 2 s (tok_timeout); leave its answer room on a busy machine.
  t = await startTestSystem({ env: { RENTALS_TIMEOUT_MS: '8000' } });
});
afterAll(async () => {
  await t?.stop();
});

async function waitingFor(queue: 'stores' | 'rentals' | 'reservations', reservationId: string, type: string) {
  const jobs = await t.bus.queue(queue).getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
  return jobs.filter((j) => j.name === type && (j.data as { correlationId: string }).correlationId === reservationId);
}

describe('createReservation', () => {
  it('takes the stock, charges the payment, confirms, and queues ReservationConfirmed for stores', async () => {
    const itemId = await t.registerItem({ stock: 5, dailyRate: 1250, name: 'Drone' });
    const res = await t.create(itemId, { quantity: 2, startDate: day(2), endDate: day(5) });
    expect(res.errors).toBeUndefined();
    const r = res.data!.createReservation;
    expect(r).toMatchObject({
      customerId: 'carol',
      status: 'CONFIRMED',
      quantity: 2,
      startDate: day(2),
      endDate: day(5),
      totalPrice: 2 * 1250 * 3,
      item: { id: itemId },
      storeId: 'store-1',
    });
    expect(r.history.map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED']);
    expect(await t.stockOf(itemId)).toBe(3);
    expect(await t.paymentOf(r.id)).toEqual({ status: 'PAID', amount: 7500 });

    const jobs = await eventually(async () => {
      const found = await waitingFor('stores', r.id, 'ReservationConfirmed');
      return found.length > 0 ? found : null;
    });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data).toMatchObject({
      type: 'ReservationConfirmed',
      correlationId: r.id,
      payload: { reservationId: r.id, itemName: 'Drone', storeId: 'store-1', quantity: 2, totalPrice: 7500 },
    });
    const stored = await t.doc(r.id);
    expect(stored?.outboxCount).toBe(0);
    // Written with the driver, not through a mongoose document: still what the schema describes.
    expect(new t.api.data.model(stored).validateSync()).toBeUndefined();
    expect(stored).toMatchObject({ status: 'CONFIRMED', dailyRate: 1250, totalPrice: 7500, settlingSince: null });
    expect(stored!.updatedAt.getTime()).toBeGreaterThanOrEqual(stored!.createdAt.getTime());
  });

  it('ends PAYMENT_FAILED with the stock back on a declined card, error PAYMENT_DECLINED', async () => {
    const itemId = await t.registerItem({ stock: 3 });
    const res = await t.create(itemId, { quantity: 2, paymentToken: 'tok_decline' });
    expect(res.errors?.[0]?.extensions?.code).toBe('PAYMENT_DECLINED');
    const id = res.errors?.[0]?.extensions?.reservationId as string;
    expect(id).toBeTruthy();
    const doc = await t.doc(id);
    expect(doc?.status).toBe('PAYMENT_FAILED');
    expect(doc?.history.map((h) => h.status)).toEqual(['PENDING', 'PAYMENT_FAILED']);
    expect(await t.stockOf(itemId)).toBe(3);
    expect((await t.paymentOf(id))?.status).toBe('DECLINED');
    const jobs = await eventually(async () => {
      const found = await waitingFor('reservations', id, 'ReservationPaymentFailed');
      return found.length > 0 ? found : null;
    });
    expect(jobs).toHaveLength(1);
  });

  it('treats a provider that never answers (tok_timeout) like a decline', { timeout: 20_000 }, async () => {
    const itemId = await t.registerItem({ stock: 1 });
    const res = await t.create(itemId, { paymentToken: 'tok_timeout' });
    expect(res.errors?.[0]?.extensions?.code).toBe('PAYMENT_DECLINED');
    const id = res.errors?.[0]?.extensions?.reservationId as string;
    expect((await t.doc(id))?.status).toBe('PAYMENT_FAILED');
    expect(await t.stockOf(itemId)).toBe(1);
  });

  it('ends REJECTED with INSUFFICIENT_STOCK when the stock is short, taking nothing', async () => {
    const itemId = await t.registerItem({ stock: 1 });
    const res = await t.create(itemId, { quantity: 2 });
    expect(res.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
    expect(await t.stockOf(itemId)).toBe(1);
    const docs = await t.api.data.model.find({ itemId }).lean();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.status).toBe('REJECTED');
    expect(docs[0]?.history.at(-1)?.reason).toMatch(/^INSUFFICIENT_STOCK/);
    expect(await t.paymentOf(docs[0]!._id)).toBeNull();
  });

  it('an item a hold just found short: the next requests it cannot serve are refused from a read, writing nothing; one it can serve goes on', async () => {
    const itemId = await t.registerItem({ stock: 1 });
    const first = await t.create(itemId, { quantity: 2 });
    expect(first.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
    const ops: string[] = [];
    mongoose.set('debug', (collection: string, method: string) => {
      if (collection === 'reservations') ops.push(method);
    });
    let again;
    try {
      again = await t.create(itemId, { quantity: 2 });
    } finally {
      mongoose.set('debug', false);
    }
    // The same answer as items gives, and nothing written: the one REJECTED reservation is the first.
    expect(again.errors?.[0]).toMatchObject({ message: first.errors![0]!.message, extensions: { code: 'INSUFFICIENT_STOCK' } });
    expect(ops).toEqual([]);
    expect(await t.api.data.model.countDocuments({ itemId })).toBe(1);
    // The unit there is still reservable: the stock read says so, and the saga goes on.
    const ok = await t.create(itemId, { quantity: 1 });
    expect(ok.data?.createReservation.status).toBe('CONFIRMED');
    expect(await t.stockOf(itemId)).toBe(0);
  });

  it.each<[string, Record<string, unknown>, string, string | undefined]>([
    ['quantity 0', { quantity: 0 }, 'BAD_USER_INPUT', 'quantity'],
    ['quantity 1001', { quantity: 1001 }, 'BAD_USER_INPUT', 'quantity'],
    ['a start in the past', { startDate: day(-1), endDate: day(2) }, 'BAD_USER_INPUT', 'startDate'],
    ['an end on the start', { startDate: day(3), endDate: day(3) }, 'BAD_USER_INPUT', 'endDate'],
    ['an end before the start', { startDate: day(3), endDate: day(2) }, 'BAD_USER_INPUT', 'endDate'],
    ['more than 90 days', { startDate: day(1), endDate: day(92) }, 'BAD_USER_INPUT', 'endDate'],
    ['a date that does not exist', { startDate: '2031-02-30', endDate: '2031-03-04' }, 'BAD_USER_INPUT', 'startDate'],
    ['a date with a time', { endDate: `${day(4)}T10:00:00Z` }, 'BAD_USER_INPUT', 'endDate'],
  ])('refuses %s with a stable code, writing nothing', async (_name, patch, code, field) => {
    const itemId = await t.registerItem({ stock: 2000 });
    const res = await t.create(itemId, patch);
    expect(res.errors?.[0]?.extensions?.code).toBe(code);
    expect(res.errors?.[0]?.extensions?.field).toBe(field);
    expect(await t.api.data.model.countDocuments({ itemId })).toBe(0);
    expect(await t.stockOf(itemId)).toBe(2000);
  });

  it('answers NOT_FOUND for an unknown item, writing nothing', async () => {
    const before = await t.api.data.model.countDocuments({});
    for (const itemId of ['0123456789abcdef01234567', 'nope']) {
      const res = await t.create(itemId);
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    expect(await t.api.data.model.countDocuments({})).toBe(before);
  });

  it('lets only customers reserve', async () => {
    const itemId = await t.registerItem();
    expect((await t.create(itemId, {}, as.staff('store-1'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.create(itemId, {}, as.admin)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.create(itemId, {}, as.anonymous)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await t.stockOf(itemId)).toBe(5);
  });

  it('refuses a non-string date at the scalar', async () => {
    const itemId = await t.registerItem();
    const res = await t.create(itemId, { startDate: 20270301 });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('input.startDate');
  });
});

describe('reservation(id)', () => {
  it('shows a reservation to its customer, staff of its store and admins; FORBIDDEN to others (a service too); null when unknown', async () => {
    const itemId = await t.registerItem({ storeId: 'store-9' });
    const r = (await t.create(itemId)).data!.createReservation;
    for (const who of [as.customer(), as.staff('store-9'), as.admin]) {
      const res = await t.gql<{ reservation: ReservationView }>(GET, { id: r.id }, who);
      expect(res.data?.reservation).toMatchObject({ id: r.id, status: 'CONFIRMED' });
    }
    expect((await t.gql(GET, { id: r.id }, as.customer('mallory'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(GET, { id: r.id }, as.staff('store-1'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A service identity reads no reservation (mayViewReservation, @rental/auth).
    expect((await t.gql(GET, { id: r.id }, { sub: 'rentals', role: 'SERVICE' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(GET, { id: r.id }, as.anonymous)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const unknown = await t.gql<{ reservation: unknown }>(GET, { id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data?.reservation).toBeNull();
  });
});

describe('cancelReservation', () => {
  it('cancels a confirmed reservation: CANCELLED, stock and payment back, ReservationCancelled queued', async () => {
    const itemId = await t.registerItem({ stock: 4 });
    const r = (await t.create(itemId, { quantity: 3 })).data!.createReservation;
    expect(await t.stockOf(itemId)).toBe(1);
    const res = await t.gql<{ cancelReservation: ReservationView }>(CANCEL, { id: r.id, reason: 'plans changed' });
    expect(res.errors).toBeUndefined();
    expect(res.data?.cancelReservation.status).toBe('CANCELLED');
    expect(res.data?.cancelReservation.history.map((h) => [h.status, h.reason])).toEqual([
      ['PENDING', null],
      ['CONFIRMED', null],
      ['CANCELLED', 'plans changed'],
    ]);
    expect(await t.stockOf(itemId)).toBe(4);
    expect((await t.paymentOf(r.id))?.status).toBe('REFUNDED');
    for (const queue of ['stores', 'rentals', 'reservations'] as const) {
      await eventually(async () => (await waitingFor(queue, r.id, 'ReservationCancelled')).length === 1);
    }
  });

  it('lets staff of the store cancel, not staff of another store or another customer', async () => {
    const itemId = await t.registerItem({ stock: 2, storeId: 'store-7' });
    const r = (await t.create(itemId)).data!.createReservation;
    for (const who of [as.customer('mallory'), as.staff('store-1')]) {
      const res = await t.gql(CANCEL, { id: r.id }, who);
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await t.doc(r.id))?.status).toBe('CONFIRMED');
    expect(await t.stockOf(itemId)).toBe(1);
    expect((await t.paymentOf(r.id))?.status).toBe('PAID');
    const res = await t.gql<{ cancelReservation: ReservationView }>(CANCEL, { id: r.id }, as.staff('store-7'));
    expect(res.data?.cancelReservation.status).toBe('CANCELLED');
    expect(res.data?.cancelReservation.history.at(-1)?.reason).toBe('cancelled by staff');
    expect(await t.stockOf(itemId)).toBe(2);
  });

  it('refuses to cancel twice, or a declined reservation, with INVALID_STATE; unknown ids are NOT_FOUND', async () => {
    const itemId = await t.registerItem({ stock: 2 });
    const r = (await t.create(itemId)).data!.createReservation;
    expect((await t.gql(CANCEL, { id: r.id })).errors).toBeUndefined();
    expect((await t.gql(CANCEL, { id: r.id })).errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    const declined = await t.create(itemId, { paymentToken: 'tok_decline' });
    const declinedId = declined.errors?.[0]?.extensions?.reservationId as string;
    expect((await t.gql(CANCEL, { id: declinedId })).errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect((await t.gql(CANCEL, { id: '00000000-0000-4000-8000-000000000000' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await t.stockOf(itemId)).toBe(2);
  });

  it('refuses a reason over 500 characters', async () => {
    const itemId = await t.registerItem();
    const r = (await t.create(itemId)).data!.createReservation;
    const res = await t.gql(CANCEL, { id: r.id, reason: 'x'.repeat(501) });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect((await t.doc(r.id))?.status).toBe('CONFIRMED');
  });
});
