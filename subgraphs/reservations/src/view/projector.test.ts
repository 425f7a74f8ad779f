/**
 * The customer view against the real database and queues: the projector
 * (repeated, concurrent and out-of-order events; +1 version per change; the
 * change log and the per-customer sequence) and `myReservations`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { mongoose } from '@rental/db';
import { createEvent, type DomainEvent } from '@rental/events';
import { as, CANCEL, eventually, startTestSystem, testLogger, type TestSystem } from '../testing.js';
import { type ViewSnapshot } from '../data/index.js';
import { ViewProjector } from './projector.js';

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem({ withWorker: true });
});
afterAll(async () => {
  await t?.stop();
});

const worker = () => t.worker!;

function confirmedEvent(customerId = 'vic', createdAt = new Date().toISOString()) {
  return createEvent('ReservationConfirmed', {
    reservationId: randomUUID(),
    customerId,
    itemId: 'item-1',
    itemName: 'Drone',
    storeId: 'store-1',
    quantity: 1,
    startDate: '2030-01-01',
    endDate: '2030-01-03',
    totalPrice: 2000,
    createdAt,
  });
}
const orderCreated = (reservationId: string) => createEvent('StoreOrderCreated', { orderId: `order-${reservationId}`, reservationId, storeId: 'store-1' });
const prepared = (reservationId: string) => createEvent('StoreOrderPrepared', { orderId: `order-${reservationId}`, reservationId, storeId: 'store-1' });
const started = (reservationId: string) => createEvent('RentalStarted', { rentalId: `rental-${reservationId}`, reservationId });

async function logOf(reservationId: string) {
  return worker().views.changesOf(reservationId, 0);
}

describe('customer view projector (integration)', () => {
  it('versions grow by one per change, repeated events change nothing, every change is logged once', async () => {
    const confirmed = confirmedEvent();
    const id = confirmed.correlationId;
    const p = worker().projector;
    expect((await p.apply(confirmed))?.version).toBe(1);
    expect(await p.apply(confirmed)).toBeNull();
    expect((await p.apply(orderCreated(id)))?.version).toBe(2);
    const ready = prepared(id);
    expect((await p.apply(ready))?.version).toBe(3);
    expect(await p.apply(ready)).toBeNull();
    const view = await worker().views.get(id);
    expect(view).toMatchObject({ version: 3, status: 'READY_FOR_PICKUP', storeOrder: { id: `order-${id}`, status: 'READY' } });
    const log = await logOf(id);
    expect(log.map((c) => [c.version, c.status])).toEqual([
      [1, 'CONFIRMED'],
      [2, 'CONFIRMED'],
      [3, 'READY_FOR_PICKUP'],
    ]);
    // The feed sequence grows along the customer's changes.
    expect(log[1]!.sequence).toBeGreaterThan(log[0]!.sequence);
    expect(log[2]!.sequence).toBeGreaterThan(log[1]!.sequence);
  });

  it('out of order: a StoreOrderCreated after StoreOrderPrepared fills in without moving READY back; nothing before the reservation is known is visible', async () => {
    const confirmed = confirmedEvent();
    const id = confirmed.correlationId;
    const p = worker().projector;
    // Stores' events first: kept, not visible (version 0, nothing logged).
    expect(await p.apply(prepared(id))).toBeNull();
    expect(await worker().views.get(id)).toMatchObject({ version: 0, status: 'READY_FOR_PICKUP', customerId: null });
    expect(await logOf(id)).toEqual([]);
    const first = await p.apply(confirmed);
    expect(first).toMatchObject({ version: 1, status: 'READY_FOR_PICKUP', customerId: 'vic' });
    const late = await p.apply(createEvent('StoreOrderCreated', { orderId: `order-${id}`, reservationId: id, storeId: 'store-1' }));
    // The order id was known from StoreOrderPrepared already: nothing to fill, no change.
    expect(late).toBeNull();
    expect(await worker().views.get(id)).toMatchObject({ version: 1, status: 'READY_FOR_PICKUP', storeOrder: { status: 'READY' } });
  });

  it('a store order that arrives a moment before its reservation waits for it: the customer sees CONFIRMED, then the order', async () => {
    const confirmed = confirmedEvent();
    const id = confirmed.correlationId;
    const p = worker().projector;
    const order = p.apply(orderCreated(id));
    await new Promise((r) => setTimeout(r, 20));
    expect(await p.apply(confirmed)).toMatchObject({ version: 1, status: 'CONFIRMED', storeOrder: { id: null, status: null } });
    expect(await order).toMatchObject({ version: 2, status: 'CONFIRMED', storeOrder: { id: `order-${id}`, status: 'PENDING' } });
    expect((await logOf(id)).map((c) => c.version)).toEqual([1, 2]);
  });

  it('concurrent and repeated deliveries through the queue: one version per distinct change, a contiguous log', async () => {
    const confirmed = confirmedEvent();
    const id = confirmed.correlationId;
    const events: DomainEvent[] = [confirmed, orderCreated(id), prepared(id), started(id)];
    const queue = t.bus.queue('reservations');
    const jobs: Array<{ id?: string }> = [];
    for (let round = 0; round < 3; round += 1) {
      for (const e of [...events].reverse()) jobs.push(await queue.add(e.type, e, { jobId: `${e.eventId}-${round}-${randomUUID()}` }));
    }
    await eventually(async () => {
      const states = await Promise.all(jobs.map((j) => queue.getJobState(j.id!)));
      if (states.includes('failed')) throw new Error('a job failed');
      return states.every((s) => s === 'completed');
    }, 20_000);
    const view = await worker().views.get(id);
    expect(view?.status).toBe('RENTED');
    const log = await logOf(id);
    expect(log.map((c) => c.version)).toEqual(Array.from({ length: view!.version }, (_, i) => i + 1));
    expect(new Set(log.map((c) => c.sequence)).size).toBe(log.length);
    // Whatever the order, the history ends complete.
    expect(Object.keys(view!.history).sort()).toEqual(['CONFIRMED', 'PENDING', 'READY_FOR_PICKUP', 'RENTED']);
  });

  it('a failed publish is retried with the event: the retry changes nothing and publishes the current version', async () => {
    const published: ViewSnapshot[] = [];
    let failNext = true;
    const p = new ViewProjector(worker().views, worker().sequences, {
      async publish(s) {
        if (failNext) {
          failNext = false;
          throw new Error('redis down');
        }
        published.push(s);
      },
    }, testLogger);
    const confirmed = confirmedEvent();
    const id = confirmed.correlationId;
    await expect(p.apply(confirmed)).rejects.toThrow('redis down');
    // The view and its log entry were written together before the publish failed.
    expect((await logOf(id)).map((c) => c.version)).toEqual([1]);
    expect(await p.apply(confirmed)).toBeNull();
    expect(published.map((s) => s.version)).toEqual([1]);
    await p.apply(orderCreated(id));
    expect(published.map((s) => s.version)).toEqual([1, 2]);
    expect((await logOf(id)).map((c) => c.version)).toEqual([1, 2]);
  });

  it('the events of a reservation this worker projected a moment ago cost one write each and no read', async () => {
    const confirmed = confirmedEvent();
    const id = confirmed.correlationId;
    const p = worker().projector;
    const ops: string[] = [];
    mongoose.set('debug', (collection: string, method: string) => {
      if (collection === 'reservation_views') ops.push(method);
    });
    try {
      await p.apply(confirmed);
      await p.apply(orderCreated(id));
    } finally {
      mongoose.set('debug', false);
    }
    expect(ops).toEqual(['insertOne', 'updateOne']);
    expect((await logOf(id)).map((c) => c.version)).toEqual([1, 2]);
  });

  it('a copy made stale by another writer: the write misses, the view is read, the change lands once', async () => {
    const confirmed = confirmedEvent();
    const id = confirmed.correlationId;
    const mine = new ViewProjector(worker().views, worker().sequences, { publish: async () => undefined }, testLogger);
    const other = new ViewProjector(worker().views, worker().sequences, { publish: async () => undefined }, testLogger);
    await mine.apply(confirmed); // `mine` keeps version 1
    expect((await other.apply(orderCreated(id)))?.version).toBe(2); // another worker moves the view on
    expect((await mine.apply(prepared(id)))?.version).toBe(3);
    expect(await mine.apply(orderCreated(id))).toBeNull(); // already in the view, whatever `mine` remembered
    expect((await logOf(id)).map((c) => [c.version, c.status, c.storeOrder.status])).toEqual([
      [1, 'CONFIRMED', null],
      [2, 'CONFIRMED', 'PENDING'],
      [3, 'READY_FOR_PICKUP', 'READY'],
    ]);
  });

  it('the feed sequence never goes back, even when Redis loses the counter', async () => {
    const customer = `seq-${randomUUID().slice(0, 8)}`;
    const p = worker().projector;
    const first = await p.apply(confirmedEvent(customer));
    const second = await p.apply(confirmedEvent(customer));
    expect(second!.sequence).toBeGreaterThan(first!.sequence);
    // Redis restarted empty: the counter starts again from what the views carry.
    const redis = new Redis(process.env.REDIS_URL!);
    await redis.del(`${t.queuePrefix}:view:seq:${customer}`);
    await redis.quit();
    const third = await p.apply(confirmedEvent(customer));
    expect(third!.sequence).toBeGreaterThan(second!.sequence);
    expect(await worker().sequences.current(customer)).toBe(third!.sequence);
  });

  it('a reservation made through the API shows up in the view from its events', async () => {
    const itemId = await t.registerItem({ name: 'Tripod', stock: 2 });
    const res = await t.create(itemId, {}, as.customer('walt'));
    const id = res.data!.createReservation.id;
    const view = await eventually(async () => worker().views.get(id));
    expect(view).toMatchObject({ version: 1, status: 'CONFIRMED', itemName: 'Tripod', customerId: 'walt', storeId: 'store-1', quantity: 1 });
    const cancel = await t.gql(CANCEL, { id }, as.customer('walt'));
    expect(cancel.errors).toBeUndefined();
    await eventually(async () => (await worker().views.get(id))?.status === 'CANCELLED');
    expect((await worker().views.get(id))?.version).toBe(2);
  });
});

const LIST = `query L($status: [ReservationStatus!], $first: Int, $after: String) {
  myReservations(status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id status itemName version quantity totalPrice item { id } history { status } createdAt storeOrderId storeOrderStatus } }
  }
}`;
interface ListResult {
  myReservations: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: Array<{ cursor: string; node: { id: string; status: string; version: number; itemName: string; createdAt: string } }>;
  };
}

describe('myReservations', () => {
  const customer = as.customer(`lena-${randomUUID().slice(0, 8)}`);
  const ids: string[] = [];
  beforeAll(async () => {
    const p = worker().projector;
    // Four reservations, a minute apart, the last one cancelled; one of someone else's.
    for (let i = 0; i < 4; i += 1) {
      const e = confirmedEvent(customer.sub, new Date(Date.UTC(2029, 0, 1, 10, i)).toISOString());
      await p.apply(e);
      ids.push(e.correlationId);
    }
    await p.apply(orderCreated(ids[1]!));
    await p.apply(createEvent('ReservationCancelled', { reservationId: ids[3]!, customerId: customer.sub, reason: 'no longer needed' }));
    await p.apply(confirmedEvent('someone-else'));
  });

  it('lists only the caller\'s, newest first, without cancelled ones by default', async () => {
    const res = await t.gql<ListResult>(LIST, {}, customer);
    expect(res.errors).toBeUndefined();
    const list = res.data!.myReservations;
    expect(list.edges.map((e) => e.node.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(list.totalCount).toBe(3);
    expect(list.pageInfo.hasNextPage).toBe(false);
    expect(list.edges[1]!.node).toMatchObject({ status: 'CONFIRMED', itemName: 'Drone', version: 2, storeOrderId: `order-${ids[1]}`, storeOrderStatus: 'PENDING' });
  });

  it('filters by status; cancelled ones stay readable', async () => {
    const cancelled = await t.gql<ListResult>(LIST, { status: ['CANCELLED'] }, customer);
    expect(cancelled.data!.myReservations.edges.map((e) => e.node.id)).toEqual([ids[3]]);
    const all = await t.gql<ListResult>(LIST, { status: ['CONFIRMED', 'CANCELLED'] }, customer);
    expect(all.data!.myReservations.totalCount).toBe(4);
  });

  it('pages with cursors', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const res: Awaited<ReturnType<typeof t.gql<ListResult>>> = await t.gql<ListResult>(LIST, { first: 2, after, status: ['CONFIRMED', 'CANCELLED'] }, customer);
      const list = res.data!.myReservations;
      seen.push(...list.edges.map((e) => e.node.id));
      if (!list.pageInfo.hasNextPage) break;
      after = list.pageInfo.endCursor;
    }
    expect(seen).toEqual([ids[3], ids[2], ids[1], ids[0]]);
  });

  it('refuses a bad page size or cursor, and anonymous callers', async () => {
    expect((await t.gql(LIST, { first: 0 }, customer)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect((await t.gql(LIST, { after: 'nope' }, customer)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect((await t.gql(LIST, {}, as.anonymous)).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('another customer sees none of them', async () => {
    const res = await t.gql<ListResult>(LIST, { status: ['CONFIRMED', 'CANCELLED'] }, as.customer('someone-else'));
    expect(res.data!.myReservations.edges.every((e) => !ids.includes(e.node.id))).toBe(true);
  });
});
