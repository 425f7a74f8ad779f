/**
 * The worker's consumers are idempotent: the same event delivered three times
 * (three jobs with different job ids, one eventId) has the effect of one.
 * Also: events wait in the queue while the worker is down.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '@rental/events';
import { CHARGE, RESERVATION_RENTAL, as, chargeInput, eventually, startTestRentals, type Payment, type Rental, type TestRentals } from './testing.js';

let t: TestRentals;
beforeAll(async () => {
  t = await startTestRentals();
});
afterAll(async () => {
  await t?.stop();
});

async function paid(): Promise<string> {
  const input = chargeInput();
  const res = await t.gql<{ chargePayment: Payment }>(CHARGE, { input }, as.service);
  expect(res.data?.chargePayment.status).toBe('PAID');
  return input.reservationId;
}

async function rentalOf(reservationId: string): Promise<Rental | null> {
  const res = await t.gql<{ _entities: Array<{ rental: Rental | null }> }>(
    RESERVATION_RENTAL,
    { reps: [{ __typename: 'Reservation', id: reservationId }] },
    as.admin,
  );
  return res.data?._entities[0]?.rental ?? null;
}

const rawDoc = (reservationId: string) => t.db.collection('rentals').findOne({ reservationId });

async function deliverThrice(event: ReturnType<typeof createEvent>): Promise<void> {
  const queue = t.bus.queue('rentals');
  await Promise.all([1, 2, 3].map((n) => queue.add(event.type, event, { jobId: `${event.eventId}-copy-${n}` })));
  await eventually(() => allDone([1, 2, 3].map((n) => `${event.eventId}-copy-${n}`)));
}

async function allDone(jobIds: string[]): Promise<boolean> {
  const queue = t.bus.queue('rentals');
  const states = await Promise.all(jobIds.map((id) => queue.getJobState(id)));
  return states.every((s) => s === 'completed');
}

describe('rentals worker', () => {
  it('StoreOrderPrepared three times: ready once, one processed entry', async () => {
    const reservationId = await paid();
    const event = createEvent('StoreOrderPrepared', { orderId: randomUUID(), reservationId, storeId: 'store-1' });
    await deliverThrice(event);
    const doc = await rawDoc(reservationId);
    expect(doc?.readyForPickup).toBe(true);
    expect(Object.keys(doc?.processedEvents ?? {})).toEqual([event.eventId]);
    const readyAt = doc?.readyAt;
    // A fourth copy changes nothing either.
    await t.bus.queue('rentals').add(event.type, event, { jobId: `${event.eventId}-copy-4` });
    await eventually(() => allDone([`${event.eventId}-copy-4`]));
    expect((await rawDoc(reservationId))?.readyAt).toEqual(readyAt);
  });

  it('ReservationCancelled three times: one refund, rental cancelled', async () => {
    const reservationId = await paid();
    const event = createEvent('ReservationCancelled', { reservationId, customerId: 'carol', reason: 'changed my mind' });
    await deliverThrice(event);
    const rental = await rentalOf(reservationId);
    expect(rental).toMatchObject({ status: 'CANCELLED', payment: { status: 'REFUNDED' } });
    // Concurrent copies may each ask the provider (its refund is idempotent); the money goes back once.
    expect(t.provider.givenBackFor(reservationId)).toBe(6000);
    expect(t.provider.heldFor(reservationId)).toBe(0);
    expect(Object.keys((await rawDoc(reservationId))?.processedEvents ?? {})).toEqual([event.eventId]);
  });

  it('ReservationCancelled after hand-over: no refund, the job completes', async () => {
    const reservationId = await paid();
    await t.bus.publish(createEvent('StoreOrderPrepared', { orderId: randomUUID(), reservationId, storeId: 'store-1' }));
    await eventually(async () => (await rawDoc(reservationId))?.readyForPickup === true);
    const started = await t.gql(`mutation($r: ID!) { startRental(reservationId: $r) { status } }`, { r: reservationId }, as.admin);
    expect(started.errors).toBeUndefined();
    const event = createEvent('ReservationCancelled', { reservationId, customerId: 'carol', reason: 'late' });
    await t.bus.publish(event);
    await eventually(() => allDone([event.eventId]));
    expect(await rentalOf(reservationId)).toMatchObject({ status: 'ACTIVE', payment: { status: 'PAID' } });
    expect(t.provider.refundsFor(reservationId)).toBe(0);
  });

  it('events wait while the worker is down and are handled when it is back', async () => {
    await t.worker?.stop();
    t.worker = undefined;
    const reservationId = await paid();
    const event = createEvent('StoreOrderPrepared', { orderId: randomUUID(), reservationId, storeId: 'store-1' });
    await t.bus.publish(event);
    await new Promise((r) => setTimeout(r, 200));
    expect((await rawDoc(reservationId))?.readyForPickup).toBe(false);
    await t.startWorker();
    await eventually(async () => (await rawDoc(reservationId))?.readyForPickup === true);
  });
});
