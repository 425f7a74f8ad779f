/**
 * The store order life over real queues: events published with the real
 * EventBus, handled by the real worker; prepareOrder over HTTP; the events
 * stores produces checked in its consumers' queues (nobody drains them here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type EventOf } from '@rental/events';
import { storeOrderIdFor } from './domain/index.js';
import { storeOrderCreatedEventId } from './data/index.js';
import {
  ADMIN,
  cancelledEvent,
  confirmedEvent,
  customer,
  queuedEvents,
  rentalStartedEvent,
  staff,
  startTestEnv,
  until,
  type StoresTestEnv,
} from './testing.js';

let env: StoresTestEnv;

beforeAll(async () => {
  env = await startTestEnv(true);
  for (const id of ['S1', 'S2']) {
    const res = await env.gql('mutation ($i: CreateStoreInput!) { createStore(input: $i) { id } }', { i: { id, name: `Store ${id}`, city: 'Berlin' } });
    expect(res.errors).toBeUndefined();
  }
});

afterAll(async () => {
  await env?.close();
});

const ORDER_FIELDS = 'id reservationId storeId status itemId itemName quantity startDate endDate customerId createdAt preparedAt store { id name } history { status at reason }';
const PREPARE = `mutation ($id: ID!) { prepareOrder(orderId: $id) { ${ORDER_FIELDS} } }`;

async function orderOf(reservationId: string) {
  return env.api.models.StoreOrder.findOne({ reservationId }).lean();
}

async function confirmAndWait(overrides: Parameters<typeof confirmedEvent>[0] = {}) {
  const event = confirmedEvent(overrides);
  await env.bus.publish(event);
  const order = await until(() => orderOf(event.payload.reservationId), 10_000, 'store order');
  return { event, orderId: order._id };
}

/** Waits until the stores worker has finished the job of `event` (its id is the job id). */
async function handled(event: EventOf<'ReservationConfirmed' | 'ReservationCancelled' | 'RentalStarted'>) {
  await until(async () => (await env.bus.queue('stores').getJob(event.eventId))?.isCompleted(), 10_000, `job ${event.type}`);
}

describe('ReservationConfirmed', () => {
  it('creates a PENDING order and queues StoreOrderCreated for reservations', async () => {
    const { event, orderId } = await confirmAndWait({ customerId: 'cust-A', quantity: 2 });
    const rid = event.payload.reservationId;
    expect(orderId).toBe(storeOrderIdFor(rid));

    const list = await env.gql<{ storeOrders: { edges: { node: Record<string, unknown> }[]; pageInfo: { hasNextPage: boolean } } }>(
      `query { storeOrders(storeId: "S1", first: 100) { edges { node { ${ORDER_FIELDS} } } pageInfo { hasNextPage } } }`,
      {},
      staff('S1'),
    );
    expect(list.data?.storeOrders.pageInfo.hasNextPage).toBe(false);
    const order = list.data?.storeOrders.edges.map((e) => e.node).find((o) => o.reservationId === rid);
    expect(order).toMatchObject({
      id: orderId,
      storeId: 'S1',
      status: 'PENDING',
      itemId: event.payload.itemId,
      itemName: 'Canon EOS R6',
      quantity: 2,
      startDate: '2027-03-01',
      endDate: '2027-03-04',
      customerId: 'cust-A',
      preparedAt: null,
      store: { id: 'S1', name: 'Store S1' },
      history: [{ status: 'PENDING', reason: 'reservation confirmed' }],
    });

    const created = await until(() => queuedEvents(env.bus, 'reservations', 'StoreOrderCreated', { orderId }).then((l) => (l.length > 0 ? l : null)), 5_000, 'StoreOrderCreated');
    expect(created).toHaveLength(1);
    expect(created[0]!.payload).toEqual({ orderId, reservationId: rid, storeId: 'S1' });
    // Published straight from the handler (no outbox), under the id derived from the order.
    expect(created[0]!.eventId).toBe(storeOrderCreatedEventId(orderId));
    const stored = await env.api.models.StoreOrder.findById(orderId).lean();
    expect(stored?.outboxCount).toBe(0);
    // Written with the driver, not through a mongoose document: still what the schema describes.
    expect(new env.api.models.StoreOrder(stored).validateSync()).toBeUndefined();
  });

  it('a worker that died between the insert and the publish: the retried job publishes StoreOrderCreated', async () => {
    const event = confirmedEvent({ storeId: 'S1' });
    const rid = event.payload.reservationId;
    const orderId = storeOrderIdFor(rid);
    // What the first attempt left: the order, and no event on any queue.
    const at = new Date(Date.now() - 60_000);
    await env.api.models.StoreOrder.collection.insertOne({
      _id: orderId,
      reservationId: rid,
      storeId: 'S1',
      status: 'PENDING',
      itemId: event.payload.itemId,
      itemName: event.payload.itemName,
      quantity: event.payload.quantity,
      startDate: event.payload.startDate,
      endDate: event.payload.endDate,
      customerId: event.payload.customerId,
      history: [{ status: 'PENDING', at, reason: 'reservation confirmed' }],
      processedEvents: {},
      outbox: {},
      outboxCount: 0,
      createdAt: at,
      updatedAt: at,
    } as never);
    expect(await queuedEvents(env.bus, 'reservations', 'StoreOrderCreated', { orderId })).toEqual([]);
    await env.bus.publish(event); // BullMQ's retry of the job
    await handled(event);
    const created = await queuedEvents(env.bus, 'reservations', 'StoreOrderCreated', { orderId });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ eventId: storeOrderCreatedEventId(orderId), occurredAt: at.toISOString() });
    expect(await env.api.models.StoreOrder.countDocuments({ reservationId: rid })).toBe(1);
  });

  it('the same event delivered three times creates one order and one StoreOrderCreated', async () => {
    const event = confirmedEvent();
    const rid = event.payload.reservationId;
    // 1. Published three times at once: BullMQ drops the repeats (job id = event id).
    await Promise.all([env.bus.publish(event), env.bus.publish(event), env.bus.publish(event)]);
    await handled(event);
    // 2. Delivered again after the job is gone (past the dedupe window): the handler itself must absorb it.
    for (let i = 0; i < 2; i += 1) {
      await (await env.bus.queue('stores').getJob(event.eventId))!.remove();
      await env.bus.publish(event);
      await handled(event);
    }
    // 3. A producer that re-created the event (new event id, same reservation).
    const again = createEvent('ReservationConfirmed', event.payload);
    await env.bus.publish(again);
    await handled(again);

    expect(await env.api.models.StoreOrder.countDocuments({ reservationId: rid })).toBe(1);
    const order = (await orderOf(rid))!;
    expect(order.history).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300)); // a sweep would publish anything left over
    expect(await queuedEvents(env.bus, 'reservations', 'StoreOrderCreated', { reservationId: rid })).toHaveLength(1);
  });
});

describe('prepareOrder', () => {
  it('STAFF of the store moves PENDING → READY and StoreOrderPrepared reaches reservations and rentals', async () => {
    const { event, orderId } = await confirmAndWait();
    const res = await env.gql<{ prepareOrder: Record<string, unknown> & { history: { status: string }[] } }>(PREPARE, { id: orderId }, staff('S1'));
    expect(res.errors).toBeUndefined();
    expect(res.data?.prepareOrder).toMatchObject({ id: orderId, status: 'READY', store: { id: 'S1' } });
    expect(res.data?.prepareOrder.preparedAt).toEqual(expect.any(String));
    expect(res.data?.prepareOrder.history.map((h) => h.status)).toEqual(['PENDING', 'READY']);

    const expected = { orderId, reservationId: event.payload.reservationId, storeId: 'S1' };
    // prepareOrder flushes its outbox before answering.
    for (const consumer of ['reservations', 'rentals'] as const) {
      const prepared = await queuedEvents(env.bus, consumer, 'StoreOrderPrepared', { orderId });
      expect(prepared.map((p) => p.payload)).toEqual([expected]);
    }
  });

  it('ADMIN may prepare any store’s order', async () => {
    const { orderId } = await confirmAndWait({ storeId: 'S2' });
    const res = await env.gql<{ prepareOrder: { status: string } }>(PREPARE, { id: orderId }, ADMIN);
    expect(res.data?.prepareOrder.status).toBe('READY');
  });

  it('preparing twice is INVALID_STATE and changes nothing', async () => {
    const { orderId } = await confirmAndWait();
    expect((await env.gql(PREPARE, { id: orderId }, staff('S1'))).errors).toBeUndefined();
    const before = await env.api.models.StoreOrder.findById(orderId).lean();
    const second = await env.gql(PREPARE, { id: orderId }, staff('S1'));
    expect(second.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    const after = await env.api.models.StoreOrder.findById(orderId).lean();
    expect(after?.history).toEqual(before?.history);
    expect(await queuedEvents(env.bus, 'rentals', 'StoreOrderPrepared', { orderId })).toHaveLength(1);
  });

  it('concurrent prepares: exactly one wins', async () => {
    const { orderId } = await confirmAndWait();
    const results = await Promise.all(Array.from({ length: 5 }, () => env.gql(PREPARE, { id: orderId }, staff('S1'))));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'INVALID_STATE')).toHaveLength(4);
    expect(await queuedEvents(env.bus, 'rentals', 'StoreOrderPrepared', { orderId })).toHaveLength(1);
  });

  it('staff of another store and customers are FORBIDDEN; the order stays PENDING', async () => {
    const { orderId } = await confirmAndWait({ customerId: 'cust-owner' });
    expect((await env.gql(PREPARE, { id: orderId }, staff('S2'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await env.gql(PREPARE, { id: orderId }, customer('cust-owner'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await env.gql(PREPARE, { id: orderId }, { sub: 'anonymous', role: 'ANONYMOUS' })).errors?.[0]?.extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
    expect((await env.api.models.StoreOrder.findById(orderId).lean())?.status).toBe('PENDING');
  });

  it('an unknown order is NOT_FOUND', async () => {
    const res = await env.gql(PREPARE, { id: 'no-such-order' }, staff('S1'));
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('ReservationCancelled', () => {
  it('cancels a PENDING order and queues StoreOrderCancelled; it cannot be prepared any more', async () => {
    const { event, orderId } = await confirmAndWait();
    const cancel = cancelledEvent(event.payload.reservationId);
    await env.bus.publish(cancel);
    await until(async () => (await orderOf(event.payload.reservationId))?.status === 'CANCELLED', 10_000, 'CANCELLED');

    const order = (await orderOf(event.payload.reservationId))!;
    expect(order.history.map((h) => h.status)).toEqual(['PENDING', 'CANCELLED']);
    expect(order.cancelledAt).toBeInstanceOf(Date);
    const queued = await until(() => queuedEvents(env.bus, 'reservations', 'StoreOrderCancelled', { orderId }).then((l) => (l.length > 0 ? l : null)), 5_000, 'StoreOrderCancelled');
    expect(queued[0]!.payload).toEqual({ orderId, reservationId: event.payload.reservationId });

    const prep = await env.gql(PREPARE, { id: orderId }, staff('S1'));
    expect(prep.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');

    // A repeated cancel changes nothing.
    await (await env.bus.queue('stores').getJob(cancel.eventId))!.remove();
    await env.bus.publish(cancel);
    await handled(cancel);
    expect((await orderOf(event.payload.reservationId))!.history).toHaveLength(2);
    expect(await queuedEvents(env.bus, 'reservations', 'StoreOrderCancelled', { orderId })).toHaveLength(1);
  });

  it('cancels a READY order', async () => {
    const { event, orderId } = await confirmAndWait();
    await env.gql(PREPARE, { id: orderId }, staff('S1'));
    await env.bus.publish(cancelledEvent(event.payload.reservationId));
    await until(async () => (await orderOf(event.payload.reservationId))?.status === 'CANCELLED', 10_000, 'CANCELLED');
    expect((await orderOf(event.payload.reservationId))!.history.map((h) => h.status)).toEqual(['PENDING', 'READY', 'CANCELLED']);
  });

  it('a cancel that arrives before the confirm leaves no live order, and the tombstone stays hidden', async () => {
    const confirm = confirmedEvent({ customerId: 'cust-early' });
    const rid = confirm.payload.reservationId;
    const orderId = storeOrderIdFor(rid);
    const cancel = cancelledEvent(rid, 'cust-early');
    await env.bus.publish(cancel);
    await handled(cancel);
    const tomb = (await env.api.models.StoreOrder.findById(orderId).lean())!;
    expect(tomb).toMatchObject({ status: 'CANCELLED', tombstone: true });
    // Hidden while it has no details.
    const hidden = await env.gql<{ _entities: { storeOrder: unknown }[] }>(
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { storeOrder { id } } } }',
      { r: [{ __typename: 'Reservation', id: rid }] },
      ADMIN,
    );
    expect(hidden.data?._entities[0]?.storeOrder).toBeNull();
    expect((await env.gql(PREPARE, { id: orderId }, ADMIN)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    await env.bus.publish(confirm);
    await handled(confirm);
    const order = (await env.api.models.StoreOrder.findById(orderId).lean())!;
    expect(order.status).toBe('CANCELLED');
    expect(order.tombstone).toBeUndefined();
    expect(order).toMatchObject({ storeId: 'S1', itemName: 'Canon EOS R6', customerId: 'cust-early' });
    expect(await env.api.models.StoreOrder.countDocuments({ reservationId: rid })).toBe(1);

    // Now a regular (cancelled) order: visible, never created live, and nothing announced it.
    type Ids = { storeOrders: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean } } };
    const list = await env.gql<Ids>('{ storeOrders(storeId: "S1", status: [PENDING, READY], first: 100) { edges { node { id } } pageInfo { hasNextPage } } }');
    expect(list.data?.storeOrders.pageInfo.hasNextPage).toBe(false);
    expect(list.data?.storeOrders.edges.map((e) => e.node.id)).not.toContain(orderId);
    const cancelled = await env.gql<Ids>('{ storeOrders(storeId: "S1", status: [CANCELLED], first: 100) { edges { node { id } } pageInfo { hasNextPage } } }');
    expect(cancelled.data?.storeOrders.edges.map((e) => e.node.id)).toContain(orderId);
    await new Promise((r) => setTimeout(r, 300));
    expect(await queuedEvents(env.bus, 'reservations', 'StoreOrderCreated', { orderId })).toEqual([]);
    expect((await env.gql(PREPARE, { id: orderId }, ADMIN)).errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
  });
});

describe('RentalStarted', () => {
  it('moves a READY order to HANDED_OVER; a later cancel changes nothing', async () => {
    const { event, orderId } = await confirmAndWait();
    const rid = event.payload.reservationId;
    await env.gql(PREPARE, { id: orderId }, staff('S1'));
    const started = rentalStartedEvent(rid);
    await env.bus.publish(started);
    await until(async () => (await orderOf(rid))?.status === 'HANDED_OVER', 10_000, 'HANDED_OVER');

    const cancel = cancelledEvent(rid);
    await env.bus.publish(cancel);
    await handled(cancel);
    const order = (await orderOf(rid))!;
    expect(order.status).toBe('HANDED_OVER');
    expect(order.history.map((h) => h.status)).toEqual(['PENDING', 'READY', 'HANDED_OVER']);
    expect(await queuedEvents(env.bus, 'reservations', 'StoreOrderCancelled', { orderId })).toEqual([]);
  });

  it('on an order that is not READY changes nothing', async () => {
    const { event } = await confirmAndWait();
    const started = rentalStartedEvent(event.payload.reservationId);
    await env.bus.publish(started);
    await handled(started);
    expect((await orderOf(event.payload.reservationId))!.status).toBe('PENDING');
  });
});
