/**
 * Hand-over and return over HTTP, with the worker consuming `rentals-events`
 * and the relay publishing rentals' own events to `reservations-events`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type DomainEvent } from '@rental/events';
import {
  CHARGE,
  REFUND,
  RENTAL,
  RESERVATION_RENTAL,
  RETURN,
  START,
  as,
  chargeInput,
  eventually,
  startTestRentals,
  type Payment,
  type Rental,
  type TestRentals,
} from './testing.js';

let t: TestRentals;
beforeAll(async () => {
  t = await startTestRentals();
});
afterAll(async () => {
  await t?.stop();
});

const STORE = 'store-1';
const staff = as.staff(STORE);

async function rentalOf(reservationId: string): Promise<Rental | null> {
  const res = await t.gql<{ _entities: Array<{ rental: Rental | null }> }>(
    RESERVATION_RENTAL,
    { reps: [{ __typename: 'Reservation', id: reservationId }] },
    as.admin,
  );
  return res.data?._entities[0]?.rental ?? null;
}

/** A paid rental awaiting pickup. */
async function paidRental(customerId = 'carol'): Promise<{ reservationId: string; rental: Rental }> {
  const input = chargeInput({ customerId, storeId: STORE });
  const res = await t.gql<{ chargePayment: Payment }>(CHARGE, { input }, as.service);
  expect(res.data?.chargePayment.status).toBe('PAID');
  const rental = await rentalOf(input.reservationId);
  if (!rental) throw new Error('no rental');
  return { reservationId: input.reservationId, rental };
}

/** What the stores subgraph does when staff prepare the order; waits for the worker. */
async function prepareOrder(reservationId: string): Promise<void> {
  await t.bus.publish(createEvent('StoreOrderPrepared', { orderId: randomUUID(), reservationId, storeId: STORE }));
  await eventually(async () => (await rentalOf(reservationId))?.readyForPickup);
}

async function jobsIn(queue: 'reservations' | 'stores' | 'rentals'): Promise<DomainEvent[]> {
  const jobs = await t.bus.queue(queue).getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized']);
  return jobs.map((j) => j.data as DomainEvent);
}

describe('startRental', () => {
  it('refuses before the store prepared the order: INVALID_STATE "not ready for pickup yet"', async () => {
    const { reservationId } = await paidRental();
    const res = await t.gql(START, { r: reservationId }, staff);
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(res.errors?.[0]?.message).toMatch(/not ready for pickup yet/);
    expect((await rentalOf(reservationId))?.status).toBe('AWAITING_PICKUP');
  });

  it('after StoreOrderPrepared is consumed: ACTIVE, and RentalStarted reaches reservations-events', async () => {
    const { reservationId, rental } = await paidRental();
    await prepareOrder(reservationId);
    const res = await t.gql<{ startRental: Rental }>(START, { r: reservationId }, staff);
    expect(res.errors).toBeUndefined();
    expect(res.data?.startRental).toMatchObject({ id: rental.id, status: 'ACTIVE', readyForPickup: true });
    expect(Date.parse(res.data?.startRental.startedAt ?? '')).not.toBeNaN();

    const started = await eventually(async () =>
      (await jobsIn('reservations')).find((e) => e.type === 'RentalStarted' && e.correlationId === reservationId),
    );
    expect(started.payload).toEqual({ rentalId: rental.id, reservationId });
    // Also routed to stores (the order becomes HANDED_OVER there).
    await eventually(async () => (await jobsIn('stores')).some((e) => e.eventId === started.eventId));
    // The outbox is empty once published.
    await eventually(async () => (await t.db.collection('rentals').findOne({ _id: rental.id as never }))?.outboxCount === 0);
  });

  it('refuses a second start: INVALID_STATE "already started"', async () => {
    const { reservationId } = await paidRental();
    await prepareOrder(reservationId);
    await t.gql(START, { r: reservationId }, staff);
    const again = await t.gql(START, { r: reservationId }, staff);
    expect(again.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(again.errors?.[0]?.message).toMatch(/already started/);
  });

  it('refuses a cancelled rental: INVALID_STATE "cancelled"', async () => {
    const { reservationId } = await paidRental();
    await prepareOrder(reservationId);
    await t.gql(REFUND, { r: reservationId }, as.service);
    const res = await t.gql(START, { r: reservationId }, staff);
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(res.errors?.[0]?.message).toMatch(/cancelled/);
  });

  it('answers NOT_FOUND for an unknown reservation', async () => {
    const res = await t.gql(START, { r: randomUUID() }, staff);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('admin may start a rental of any store', async () => {
    const { reservationId } = await paidRental();
    await prepareOrder(reservationId);
    const res = await t.gql<{ startRental: Rental }>(START, { r: reservationId }, as.admin);
    expect(res.data?.startRental.status).toBe('ACTIVE');
  });
});

describe('refund after hand-over', () => {
  it('answers INVALID_STATE "already handed over" and changes nothing', async () => {
    const { reservationId } = await paidRental();
    await prepareOrder(reservationId);
    await t.gql(START, { r: reservationId }, staff);
    const res = await t.gql(REFUND, { r: reservationId }, as.service);
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(res.errors?.[0]?.message).toMatch(/already handed over/);
    const rental = await rentalOf(reservationId);
    expect(rental).toMatchObject({ status: 'ACTIVE', payment: { status: 'PAID' } });
  });

  it('hand-over and refund racing: exactly one wins, every time', async () => {
    for (let round = 0; round < 5; round++) {
      const { reservationId } = await paidRental();
      await prepareOrder(reservationId);
      const [s, r] = await Promise.all([
        t.gql(START, { r: reservationId }, staff),
        t.gql(REFUND, { r: reservationId }, as.service),
      ]);
      const startWon = !s.errors;
      const refundWon = !r.errors;
      expect(startWon !== refundWon).toBe(true);
      const rental = await rentalOf(reservationId);
      expect(rental?.status).toBe(startWon ? 'ACTIVE' : 'CANCELLED');
      expect(rental?.payment.status).toBe(startWon ? 'PAID' : 'REFUNDED');
      expect(t.provider.heldFor(reservationId)).toBe(startWon ? 6000 : 0);
    }
  });

  it('three hand-overs and three refunds racing: one side wins, once, and the money follows it', async () => {
    for (let round = 0; round < 5; round++) {
      const { reservationId } = await paidRental();
      await prepareOrder(reservationId);
      const [s1, r1, s2, r2, s3, r3] = await Promise.all([
        t.gql(START, { r: reservationId }, staff),
        t.gql(REFUND, { r: reservationId }, as.service),
        t.gql(START, { r: reservationId }, staff),
        t.gql(REFUND, { r: reservationId }, as.service),
        t.gql(START, { r: reservationId }, staff),
        t.gql(REFUND, { r: reservationId }, as.service),
      ]);
      const starts = [s1, s2, s3];
      const refunds = [r1, r2, r3];
      const startsWon = starts.filter((x) => !x.errors).length;
      const refundsOk = refunds.filter((x) => !x.errors).length;
      const rental = await rentalOf(reservationId);
      if (startsWon > 0) {
        expect(startsWon).toBe(1);
        expect(refunds.map((x) => x.errors?.[0]?.message)).toEqual(Array(3).fill('rental already handed over'));
        expect(rental).toMatchObject({ status: 'ACTIVE', payment: { status: 'PAID' } });
        expect(t.provider.heldFor(reservationId)).toBe(6000);
      } else {
        expect(refundsOk).toBe(3);
        for (const x of starts) expect(x.errors?.[0]).toMatchObject({ message: 'rental is cancelled', extensions: { code: 'INVALID_STATE' } });
        expect(rental).toMatchObject({ status: 'CANCELLED', payment: { status: 'REFUNDED' } });
        expect(t.provider.heldFor(reservationId)).toBe(0);
        expect(t.provider.givenBackFor(reservationId)).toBe(6000);
      }
      const started = (await jobsIn('reservations')).filter((e) => e.type === 'RentalStarted' && e.correlationId === reservationId);
      expect(started.length).toBeLessThanOrEqual(1);
    }
  });
});

describe('returnRental', () => {
  it('ACTIVE → RETURNED with RentalReturned on reservations-events; twice → INVALID_STATE', async () => {
    const { reservationId, rental } = await paidRental();
    await prepareOrder(reservationId);
    await t.gql(START, { r: reservationId }, staff);
    const res = await t.gql<{ returnRental: Rental }>(RETURN, { id: rental.id }, staff);
    expect(res.errors).toBeUndefined();
    expect(res.data?.returnRental).toMatchObject({ status: 'RETURNED' });
    expect(Date.parse(res.data?.returnRental.returnedAt ?? '')).not.toBeNaN();

    const returned = await eventually(async () =>
      (await jobsIn('reservations')).find((e) => e.type === 'RentalReturned' && e.correlationId === reservationId),
    );
    expect(returned.payload).toEqual({ rentalId: rental.id, reservationId, itemId: 'item-1', quantity: 2 });

    const again = await t.gql(RETURN, { id: rental.id }, staff);
    expect(again.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(again.errors?.[0]?.message).toMatch(/already returned/);
  });

  it('concurrent returns: one succeeds, one RentalReturned event', async () => {
    const { reservationId, rental } = await paidRental();
    await prepareOrder(reservationId);
    await t.gql(START, { r: reservationId }, staff);
    const results = await Promise.all(Array.from({ length: 6 }, () => t.gql(RETURN, { id: rental.id }, staff)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'INVALID_STATE')).toHaveLength(5);
    await eventually(async () => (await t.db.collection('rentals').findOne({ _id: rental.id as never }))?.outboxCount === 0);
    const events = (await jobsIn('reservations')).filter((e) => e.type === 'RentalReturned' && e.correlationId === reservationId);
    expect(events).toHaveLength(1);
  });

  it('refuses a rental that has not started', async () => {
    const { rental } = await paidRental();
    const res = await t.gql(RETURN, { id: rental.id }, staff);
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(res.errors?.[0]?.message).toMatch(/not started yet/);
  });

  it('answers NOT_FOUND for an unknown rental', async () => {
    const res = await t.gql(RETURN, { id: randomUUID() }, staff);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('authorization', () => {
  it('a customer cannot start or return (FORBIDDEN)', async () => {
    const { reservationId, rental } = await paidRental('carol');
    await prepareOrder(reservationId);
    const s = await t.gql(START, { r: reservationId }, as.customer('carol'));
    expect(s.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await t.gql(START, { r: reservationId }, staff);
    const r = await t.gql(RETURN, { id: rental.id }, as.customer('carol'));
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await rentalOf(reservationId))?.status).toBe('ACTIVE');
  });

  it('staff of another store cannot start or return (FORBIDDEN)', async () => {
    const { reservationId, rental } = await paidRental();
    await prepareOrder(reservationId);
    const other = as.staff('store-2');
    const s = await t.gql(START, { r: reservationId }, other);
    expect(s.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await t.gql(START, { r: reservationId }, staff);
    const r = await t.gql(RETURN, { id: rental.id }, other);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('anonymous gets UNAUTHENTICATED', async () => {
    const res = await t.gql(START, { r: randomUUID() }, as.anonymous);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a rental is visible to its customer, staff of its store and admin; null for others (a service: FORBIDDEN on rental(id))', async () => {
    const { reservationId, rental } = await paidRental('carol');
    const read = async (identity: Parameters<TestRentals['gql']>[2]) => {
      const q = await t.gql<{ rental: Rental | null }>(RENTAL, { id: rental.id }, identity);
      const e = await t.gql<{ _entities: Array<{ rental: Rental | null }> }>(
        RESERVATION_RENTAL,
        { reps: [{ __typename: 'Reservation', id: reservationId }] },
        identity,
      );
      expect(q.errors).toBeUndefined();
      expect(e.errors).toBeUndefined();
      return [q.data?.rental?.id ?? null, e.data?._entities[0]?.rental?.id ?? null];
    };
    expect(await read(as.customer('carol'))).toEqual([rental.id, rental.id]);
    expect(await read(staff)).toEqual([rental.id, rental.id]);
    expect(await read(as.admin)).toEqual([rental.id, rental.id]);
    expect(await read(as.customer('mallory'))).toEqual([null, null]);
    expect(await read(as.staff('store-2'))).toEqual([null, null]);
    // A service identity is for chargePayment and refundPayment, not for reading rentals.
    const q = await t.gql<{ rental: Rental | null }>(RENTAL, { id: rental.id }, as.service);
    expect(q.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const e = await t.gql<{ _entities: Array<{ rental: Rental | null }> }>(RESERVATION_RENTAL, { reps: [{ __typename: 'Reservation', id: reservationId }] }, as.service);
    expect(e.errors).toBeUndefined();
    expect(e.data?._entities[0]?.rental).toBeNull();
  });

  it('resolves many Reservation representations in one batch, null where there is no rental', async () => {
    const a = await paidRental();
    const b = await paidRental();
    const res = await t.gql<{ _entities: Array<{ id: string; rental: Rental | null }> }>(
      RESERVATION_RENTAL,
      {
        reps: [
          { __typename: 'Reservation', id: a.reservationId },
          { __typename: 'Reservation', id: 'none' },
          { __typename: 'Reservation', id: b.reservationId },
        ],
      },
      as.admin,
    );
    expect(res.data?._entities.map((e) => e.rental?.id ?? null)).toEqual([a.rental.id, null, b.rental.id]);
  });
});
