/**
 * The worker as a separate, stoppable process part: events published while
 * it is down wait in `stores-events` and are all handled when it is back; an
 * event left in an outbox by a process that died before publishing is
 * published by the next sweep; concurrent writers to one order stay consistent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, initialOutbox } from '@rental/events';
import { storeOrderIdFor } from './domain/index.js';
import { cancelledEvent, confirmedEvent, queuedEvents, staff, startTestEnv, until, type StoresTestEnv } from './testing.js';

let env: StoresTestEnv;

beforeAll(async () => {
  env = await startTestEnv(false);
  const res = await env.gql('mutation { createStore(input: { id: "W1", name: "Worker Store", city: "Dresden" }) { id } }');
  expect(res.errors).toBeUndefined();
});

afterAll(async () => {
  await env?.close();
});

describe('stores worker', () => {
  it('events published while the worker is stopped wait, and are all handled when it starts', async () => {
    expect(env.worker).toBeUndefined();
    const events = Array.from({ length: 30 }, (_, i) => confirmedEvent({ storeId: 'W1', itemName: `item ${i}` }));
    await Promise.all(events.map((e) => env.bus.publish(e)));
    const queue = env.bus.queue('stores');
    expect(await queue.getWaitingCount()).toBe(30);
    await new Promise((r) => setTimeout(r, 300));
    expect(await env.api.models.StoreOrder.countDocuments({ storeId: 'W1' })).toBe(0);

    await env.startWorker();
    await until(async () => (await env.api.models.StoreOrder.countDocuments({ storeId: 'W1' })) === 30, 20_000, '30 orders');
    const orders = await env.api.models.StoreOrder.find({ storeId: 'W1' }).lean();
    expect(new Set(orders.map((o) => o.reservationId))).toEqual(new Set(events.map((e) => e.payload.reservationId)));
    expect(orders.every((o) => o.status === 'PENDING')).toBe(true);
    await until(async () => (await queue.getCompletedCount()) === 30, 10_000, 'jobs completed');
    expect(await queue.getFailedCount()).toBe(0);
    await until(
      async () => (await queuedEvents(env.bus, 'reservations', 'StoreOrderCreated', { storeId: 'W1' })).length === 30,
      10_000,
      '30 StoreOrderCreated',
    );
  });

  it('an event a crashed process left in the outbox is published by the sweep', async () => {
    // As if a process wrote the order and died before publishing.
    const reservationId = '5b0c7c8e-1111-4222-8333-444455556666';
    const orderId = storeOrderIdFor(reservationId);
    const created = createEvent('StoreOrderCreated', { orderId, reservationId, storeId: 'W1' });
    await env.api.models.StoreOrder.create({
      _id: orderId,
      reservationId,
      storeId: 'W1',
      status: 'PENDING',
      itemId: 'i1',
      itemName: 'left behind',
      quantity: 1,
      startDate: '2027-03-01',
      endDate: '2027-03-02',
      customerId: 'c1',
      history: [{ status: 'PENDING', at: new Date() }],
      ...initialOutbox([created]),
    });
    const queued = await until(
      () => queuedEvents(env.bus, 'reservations', 'StoreOrderCreated', { orderId }).then((l) => (l.length > 0 ? l : null)),
      5_000,
      'swept event',
    );
    expect(queued.map((q) => q.eventId)).toEqual([created.eventId]);
    await until(async () => (await env.api.models.StoreOrder.findById(orderId).lean())?.outboxCount === 0, 5_000, 'outbox empty');
  });

  it('a prepare racing a cancel leaves one consistent outcome', async () => {
    if (!env.worker) await env.startWorker();
    for (let round = 0; round < 5; round += 1) {
      const confirm = confirmedEvent({ storeId: 'W1' });
      const rid = confirm.payload.reservationId;
      const orderId = storeOrderIdFor(rid);
      await env.bus.publish(confirm);
      await until(() => env.api.models.StoreOrder.exists({ _id: orderId }), 10_000, 'order');
      const cancel = cancelledEvent(rid);
      const [prep] = await Promise.all([
        env.gql('mutation ($id: ID!) { prepareOrder(orderId: $id) { status } }', { id: orderId }, staff('W1')),
        env.bus.publish(cancel),
      ]);
      await until(async () => (await env.bus.queue('stores').getJob(cancel.eventId))?.isCompleted(), 10_000, 'cancel handled');
      const order = (await env.api.models.StoreOrder.findById(orderId).lean())!;
      expect(order.status).toBe('CANCELLED');
      const statuses = order.history.map((h) => h.status);
      if (prep.errors) {
        expect(prep.errors[0]?.extensions?.code).toBe('INVALID_STATE');
        expect(statuses).toEqual(['PENDING', 'CANCELLED']);
      } else {
        expect(statuses).toEqual(['PENDING', 'READY', 'CANCELLED']);
      }
      // Every event written was kept and published: nothing lost to a concurrent write.
      await until(async () => (await env.api.models.StoreOrder.findById(orderId).lean())?.outboxCount === 0, 5_000, 'outbox empty');
      expect(await queuedEvents(env.bus, 'reservations', 'StoreOrderCancelled', { orderId })).toHaveLength(1);
      expect(await queuedEvents(env.bus, 'reservations', 'StoreOrderPrepared', { orderId })).toHaveLength(prep.errors ? 0 : 1);
    }
  });

  it('a confirm and a cancel delivered together always end CANCELLED', async () => {
    if (!env.worker) await env.startWorker();
    const pairs = Array.from({ length: 10 }, () => {
      const confirm = confirmedEvent({ storeId: 'W1' });
      return { confirm, cancel: cancelledEvent(confirm.payload.reservationId) };
    });
    await Promise.all(pairs.flatMap(({ confirm, cancel }, i) => (i % 2 ? [env.bus.publish(cancel), env.bus.publish(confirm)] : [env.bus.publish(confirm), env.bus.publish(cancel)])));
    const queue = env.bus.queue('stores');
    for (const { confirm, cancel } of pairs) {
      await until(async () => (await queue.getJob(confirm.eventId))?.isCompleted(), 10_000, 'confirm handled');
      await until(async () => (await queue.getJob(cancel.eventId))?.isCompleted(), 10_000, 'cancel handled');
      const order = (await env.api.models.StoreOrder.findOne({ reservationId: confirm.payload.reservationId }).lean())!;
      expect(order.status).toBe('CANCELLED');
      expect(order.tombstone).toBeUndefined();
      expect(order.itemName).toBe('Canon EOS R6');
      expect(await env.api.models.StoreOrder.countDocuments({ reservationId: confirm.payload.reservationId })).toBe(1);
    }
  });
});
