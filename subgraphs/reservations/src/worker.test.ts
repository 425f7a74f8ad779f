/**
 * The reservations worker against real queues: progress from other
 * subgraphs' events, idempotency (three deliveries, one effect), order
 * safety (late events never move a reservation back), and the whole
 * lifecycle with the real rentals API and worker.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type DomainEvent } from '@rental/events';
import { CANCEL, as, eventually, startTestSystem, type TestSystem } from './testing.js';

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem({ withWorker: true, withRentalsWorker: true });
});
afterAll(async () => {
  await t?.stop();
});

async function confirmed(stock = 3, quantity = 1): Promise<{ id: string; itemId: string }> {
  const itemId = await t.registerItem({ stock });
  const res = await t.create(itemId, { quantity });
  if (!res.data?.createReservation) throw new Error(JSON.stringify(res.errors));
  return { id: res.data.createReservation.id, itemId };
}

const statusOf = async (id: string) => (await t.doc(id))?.status;
const historyOf = async (id: string) => (await t.doc(id))?.history.map((h) => h.status);

/** Adds the event to the reservations queue `times` times under different job ids, and waits until all are done. */
async function deliver(event: DomainEvent, times = 1): Promise<void> {
  const queue = t.bus.queue('reservations');
  const ids: string[] = [];
  for (let i = 0; i < times; i += 1) {
    const job = await queue.add(event.type, event, { jobId: `${event.eventId}-${i}-${randomUUID()}` });
    ids.push(job.id!);
  }
  await eventually(async () => {
    const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
    if (states.includes('failed')) throw new Error('a job failed');
    return states.every((s) => s === 'completed');
  });
}

const prepared = (reservationId: string) =>
  createEvent('StoreOrderPrepared', { orderId: randomUUID(), reservationId, storeId: 'store-1' });
const started = (reservationId: string) => createEvent('RentalStarted', { rentalId: randomUUID(), reservationId });
const returned = (reservationId: string, itemId: string, quantity = 1) =>
  createEvent('RentalReturned', { rentalId: randomUUID(), reservationId, itemId, quantity });

describe('reservations worker', () => {
  it('moves a reservation along StoreOrderPrepared, RentalStarted, RentalReturned; the return gives the stock back', async () => {
    const { id, itemId } = await confirmed(3, 2);
    expect(await t.stockOf(itemId)).toBe(1);
    await deliver(prepared(id));
    expect(await statusOf(id)).toBe('READY_FOR_PICKUP');
    await deliver(started(id));
    expect(await statusOf(id)).toBe('RENTED');
    await deliver(returned(id, itemId, 2));
    expect(await statusOf(id)).toBe('RETURNED');
    expect(await t.stockOf(itemId)).toBe(3);
    const doc = await t.doc(id);
    expect(doc?.history.map((h) => [h.status, h.reason])).toEqual([
      ['PENDING', null],
      ['CONFIRMED', null],
      ['READY_FOR_PICKUP', 'store order prepared'],
      ['RENTED', 'handed over'],
      ['RETURNED', 'returned'],
    ]);
  });

  it('three deliveries of one event have the effect of one', async () => {
    const { id, itemId } = await confirmed(2, 1);
    await deliver(prepared(id), 3);
    expect(await historyOf(id)).toEqual(['PENDING', 'CONFIRMED', 'READY_FOR_PICKUP']);
    await deliver(started(id), 3);
    expect(await historyOf(id)).toEqual(['PENDING', 'CONFIRMED', 'READY_FOR_PICKUP', 'RENTED']);
    // Another reservation of the same item holds one unit: a double release would show.
    const other = await t.create(itemId);
    expect(other.data?.createReservation.status).toBe('CONFIRMED');
    expect(await t.stockOf(itemId)).toBe(0);
    await deliver(returned(id, itemId), 3);
    expect(await historyOf(id)).toEqual(['PENDING', 'CONFIRMED', 'READY_FOR_PICKUP', 'RENTED', 'RETURNED']);
    expect(await t.stockOf(itemId)).toBe(1);
  });

  it('late or out-of-order events never move a reservation back', async () => {
    const { id } = await confirmed();
    // RentalStarted handled before StoreOrderPrepared: both steps are recorded at once.
    await deliver(started(id));
    expect(await historyOf(id)).toEqual(['PENDING', 'CONFIRMED', 'READY_FOR_PICKUP', 'RENTED']);
    expect((await t.doc(id))?.history[2]?.reason).toMatch(/implied by RentalStarted/);
    await deliver(prepared(id));
    expect(await statusOf(id)).toBe('RENTED');
    expect(await historyOf(id)).toHaveLength(4);
  });

  it('events for a cancelled reservation change nothing', async () => {
    const { id } = await confirmed();
    expect((await t.gql(CANCEL, { id })).data).toBeTruthy();
    await deliver(prepared(id));
    await deliver(started(id));
    expect(await statusOf(id)).toBe('CANCELLED');
  });

  it('ReservationCancelled gives the stock back when the cancel could not (idempotent safety net)', async () => {
    const { id, itemId } = await confirmed(2, 1);
    expect(await t.stockOf(itemId)).toBe(1);
    // As if cancelReservation had written CANCELLED and then failed to reach items.
    const moved = await t.api.data.move(id, [{ from: 'CONFIRMED', to: 'CANCELLED', reason: 'test' }], {
      events: [createEvent('ReservationCancelled', { reservationId: id, customerId: 'carol', reason: 'test' })],
    });
    expect(moved?.status).toBe('CANCELLED');
    await t.api.relay.flush(id);
    await eventually(async () => (await t.stockOf(itemId)) === 2);
    // And again: nothing more.
    await deliver(createEvent('ReservationCancelled', { reservationId: id, customerId: 'carol', reason: 'test' }), 2);
    expect(await t.stockOf(itemId)).toBe(2);
  });

  it('the whole lifecycle with the real rentals API and worker: hand-over blocks cancel, return restores stock', async () => {
    const { id, itemId } = await confirmed(2, 1);
    // Stores would publish this when staff prepare the order (both reservations and rentals consume it).
    await t.bus.publish(prepared(id));
    await eventually(async () => (await statusOf(id)) === 'READY_FOR_PICKUP');

    const rentalsCall = <T>(query: string, variables: Record<string, unknown>) => t.call<T>(t.rentals.url, query, variables, as.staff('store-1'));
    const start = await eventually(async () => {
      const res = await rentalsCall<{ startRental: { id: string; status: string } }>(
        'mutation S($r: ID!) { startRental(reservationId: $r) { id status } }',
        { r: id },
      );
      return res.data?.startRental ?? null; // INVALID_STATE until rentals' worker saw StoreOrderPrepared
    });
    expect(start.status).toBe('ACTIVE');
    await eventually(async () => (await statusOf(id)) === 'RENTED');

    const cancel = await t.gql(CANCEL, { id });
    expect(cancel.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(await statusOf(id)).toBe('RENTED');
    expect((await t.paymentOf(id))?.status).toBe('PAID');
    expect(await t.stockOf(itemId)).toBe(1);

    const ret = await rentalsCall<{ returnRental: { status: string } }>('mutation R($id: ID!) { returnRental(rentalId: $id) { status } }', {
      id: start.id,
    });
    expect(ret.data?.returnRental.status).toBe('RETURNED');
    await eventually(async () => (await statusOf(id)) === 'RETURNED');
    expect(await t.stockOf(itemId)).toBe(2);
    expect(await historyOf(id)).toEqual(['PENDING', 'CONFIRMED', 'READY_FOR_PICKUP', 'RENTED', 'RETURNED']);
  }, 30_000);
});
