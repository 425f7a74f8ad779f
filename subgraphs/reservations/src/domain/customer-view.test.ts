import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEvent, type DomainEvent } from '@rental/events';
import { historyList, isComplete, project, STATUS_RANK, type ViewFacts } from './customer-view.js';

const rid = randomUUID();
const details = {
  itemId: 'item-1',
  itemName: 'Camera',
  storeId: 'store-1',
  quantity: 2,
  startDate: '2027-03-01',
  endDate: '2027-03-04',
  createdAt: '2027-02-01T10:00:00.000Z',
};
const at = (s: number) => new Date(Date.parse('2027-02-01T10:00:00.000Z') + s * 1000).toISOString();
function stamp<E extends DomainEvent>(e: E, seconds: number): E {
  return { ...e, occurredAt: at(seconds) };
}

const confirmed = stamp(createEvent('ReservationConfirmed', { ...details, reservationId: rid, customerId: 'carol', totalPrice: 6000 }), 1);
const orderCreated = stamp(createEvent('StoreOrderCreated', { orderId: 'order-1', reservationId: rid, storeId: 'store-1' }), 2);
const prepared = stamp(createEvent('StoreOrderPrepared', { orderId: 'order-1', reservationId: rid, storeId: 'store-1' }), 3);
const started = stamp(createEvent('RentalStarted', { rentalId: 'rental-1', reservationId: rid }), 4);
const returned = stamp(createEvent('RentalReturned', { rentalId: 'rental-1', reservationId: rid, itemId: 'item-1', quantity: 2 }), 5);
const cancelled = stamp(createEvent('ReservationCancelled', { ...details, totalPrice: 6000, reservationId: rid, customerId: 'carol', reason: 'changed my mind' }), 6);
const orderCancelled = stamp(createEvent('StoreOrderCancelled', { orderId: 'order-1', reservationId: rid }), 7);

/** Folds events into a view, counting the ones that changed it. */
function fold(events: DomainEvent[], start: ViewFacts | null = null): { view: ViewFacts | null; changes: number } {
  let view = start;
  let changes = 0;
  for (const e of events) {
    const next = project(view, e);
    if (next) {
      view = next;
      changes += 1;
    }
  }
  return { view, changes };
}

describe('customer view projector (pure)', () => {
  it('builds the view from ReservationConfirmed: details, CONFIRMED, the PENDING moment', () => {
    const v = project(null, confirmed)!;
    expect(v).toMatchObject({ ...details, customerId: 'carol', totalPrice: 6000, status: 'CONFIRMED', storeOrder: { id: null, status: null } });
    expect(historyList(v)).toEqual([
      { status: 'PENDING', at: details.createdAt, reason: null },
      { status: 'CONFIRMED', at: at(1), reason: null },
    ]);
    expect(isComplete(v)).toBe(true);
  });

  it('follows the lifecycle: order, ready, rented, returned', () => {
    const { view, changes } = fold([confirmed, orderCreated, prepared, started, returned]);
    expect(changes).toBe(5);
    expect(view).toMatchObject({
      status: 'RETURNED',
      storeOrder: { id: 'order-1', status: 'HANDED_OVER' },
      rental: { id: 'rental-1', status: 'RETURNED' },
    });
    expect(historyList(view!).map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED', 'READY_FOR_PICKUP', 'RENTED', 'RETURNED']);
  });

  it('is idempotent: a repeated event changes nothing', () => {
    const once = fold([confirmed, orderCreated, prepared]).view!;
    for (const e of [confirmed, orderCreated, prepared]) expect(project(once, e)).toBeNull();
  });

  it('is order-safe: a late StoreOrderCreated fills in the order id but does not move READY back', () => {
    const early = fold([confirmed, prepared]).view!;
    expect(early.storeOrder).toEqual({ id: 'order-1', status: 'READY' });
    const { reservationId: _r, ...withoutOrderId } = early;
    const noId: ViewFacts = { ...withoutOrderId, reservationId: rid, storeOrder: { id: null, status: 'READY' } };
    const late = project(noId, orderCreated)!;
    expect(late.storeOrder).toEqual({ id: 'order-1', status: 'READY' });
    expect(late.status).toBe('READY_FOR_PICKUP');
    expect(project(early, orderCreated)).toBeNull();
  });

  it('a late StoreOrderPrepared after RentalStarted adds its history entry, the status stays RENTED', () => {
    const v = fold([confirmed, started]).view!;
    expect(v.status).toBe('RENTED');
    const after = project(v, prepared)!;
    expect(after.status).toBe('RENTED');
    expect(historyList(after).map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED', 'READY_FOR_PICKUP', 'RENTED']);
    expect(after.storeOrder.status).toBe('HANDED_OVER');
  });

  it('never revives a cancelled reservation', () => {
    const v = fold([confirmed, cancelled, orderCancelled]).view!;
    expect(v.status).toBe('CANCELLED');
    expect(v.storeOrder.status).toBe('CANCELLED');
    const late = fold([prepared, orderCreated], v).view!;
    expect(late.status).toBe('CANCELLED');
    expect(late.storeOrder.status).toBe('CANCELLED');
  });

  it('gives the same view whatever the order of the events', () => {
    const events = [confirmed, orderCreated, prepared, started, returned];
    const expected = fold(events).view;
    for (let i = 0; i < 20; i += 1) {
      const shuffled = [...events].sort(() => Math.random() - 0.5);
      expect(fold(shuffled).view).toEqual(expected);
      expect(fold([...shuffled, ...shuffled]).view).toEqual(expected);
    }
  });

  it('keeps facts from other subgraphs before the reservation is known, without being visible', () => {
    const v = project(null, prepared)!;
    expect(isComplete(v)).toBe(false);
    const full = project(v, confirmed)!;
    expect(isComplete(full)).toBe(true);
    expect(full.status).toBe('READY_FOR_PICKUP');
  });

  it('shows REJECTED and PAYMENT_FAILED reservations from their one event', () => {
    const rejected = createEvent('ReservationRejected', { ...details, reservationId: randomUUID(), customerId: 'carol', reason: 'INSUFFICIENT_STOCK' });
    const v = project(null, rejected)!;
    expect(isComplete(v)).toBe(true);
    expect(v.status).toBe('REJECTED');
    expect(historyList(v).at(-1)).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_STOCK' });
    const failed = createEvent('ReservationPaymentFailed', { ...details, totalPrice: 10, reservationId: randomUUID(), customerId: 'carol', reason: 'payment declined' });
    expect(project(null, failed)).toMatchObject({ status: 'PAYMENT_FAILED', totalPrice: 10 });
  });

  it('an event from an older producer without createdAt uses its own time', () => {
    const old = createEvent('ReservationConfirmed', { ...details, createdAt: undefined, reservationId: randomUUID(), customerId: 'carol', totalPrice: 1 });
    expect(project(null, old)!.createdAt).toBe(old.occurredAt);
  });

  it('ranks the early endings above the lifecycle', () => {
    expect(STATUS_RANK.CANCELLED).toBeGreaterThan(STATUS_RANK.READY_FOR_PICKUP);
    expect(STATUS_RANK.RETURNED).toBeGreaterThan(STATUS_RANK.RENTED);
  });
});
