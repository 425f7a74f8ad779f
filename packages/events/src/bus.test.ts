/**
 * The bus and the consumer against the real Redis (and FerretDB/MongoDB for
 * the idempotent-handler case).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mongoose, { type Connection } from 'mongoose';
import { EventBus } from './bus.js';
import { createEvent, type EventOf } from './catalog.js';
import { startConsumer, type Consumer } from './consumer.js';
import { markProcessed, notProcessed, processedEventsFields } from './idempotency.js';
import { queueDepth } from './metrics.js';
import { obliterateQueues, testLogger, testServers, uniqueName, waitFor } from './test-support.js';

const { redisUrl, mongoUri } = testServers();
const prefix = uniqueName('bus');
const dbName = uniqueName('bus');
let bus: EventBus;
let db: Connection;
const consumers: Consumer[] = [];

async function consume(subgraph: 'stores' | 'reservations' | 'rentals', handlers: Parameters<typeof startConsumer>[0]['handlers']) {
  const consumer = await startConsumer({ subgraph, redisUrl, prefix, handlers, concurrency: 4, logger: testLogger });
  consumers.push(consumer);
  return consumer;
}

function confirmed(reservationId: string = randomUUID()): EventOf<'ReservationConfirmed'> {
  return createEvent(
    'ReservationConfirmed',
    {
      reservationId,
      customerId: 'customer-1',
      itemId: 'item-1',
      itemName: 'Camera',
      storeId: 'store-1',
      quantity: 1,
      startDate: '2027-03-01',
      endDate: '2027-03-03',
      totalPrice: 2000,
    },
    { requestId: 'req-test' },
  );
}

beforeAll(async () => {
  bus = new EventBus({ redisUrl, prefix, attempts: 3, backoffMs: 50, logger: testLogger });
  db = await mongoose.createConnection(mongoUri, { dbName }).asPromise();
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.close()));
  await obliterateQueues(bus);
});

afterAll(async () => {
  await bus.close();
  await db.dropDatabase();
  await db.close();
});

describe('EventBus + consumer', () => {
  it('delivers a published event to every consumer queue of its type', async () => {
    const event = confirmed();
    const seen: Record<string, EventOf<'ReservationConfirmed'>[]> = { stores: [], reservations: [] };
    await consume('stores', { ReservationConfirmed: async (e) => void seen.stores!.push(e) });
    await consume('reservations', { ReservationConfirmed: async (e) => void seen.reservations!.push(e) });
    await bus.publish(event);
    await waitFor(() => seen.stores!.length === 1 && seen.reservations!.length === 1, 5000, 'both consumers');
    expect(seen.stores![0]).toEqual(event);
    const job = await bus.queue('stores').getJob(event.eventId);
    expect(job?.name).toBe('ReservationConfirmed');
    expect(job?.opts.attempts).toBe(3);
    expect(await bus.queue('rentals').getJob(event.eventId)).toBeUndefined();
  });

  it('publishing the same event three times has the effect of one (job id = event id)', async () => {
    const event = confirmed();
    let calls = 0;
    await consume('stores', { ReservationConfirmed: async () => void (calls += 1) });
    await bus.publish(event);
    await waitFor(() => calls === 1, 5000, 'first delivery');
    // Repeats after completion (the completed job is kept, so its id is taken)…
    await bus.publish(event);
    await bus.publish(event);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
    const counts = await bus.queue('stores').getJobCounts('completed', 'waiting', 'active', 'delayed');
    expect(counts).toMatchObject({ completed: 1, waiting: 0, active: 0, delayed: 0 });
  });

  it('publishing the same event three times while no consumer runs queues it once', async () => {
    const event = confirmed();
    await Promise.all([bus.publish(event), bus.publish(event), bus.publish(event)]);
    expect((await queueDepth(bus))['stores-events']).toMatchObject({ waiting: 1 });
    expect((await queueDepth(bus))['reservations-events']).toMatchObject({ waiting: 1 });
  });

  it('an idempotent handler changes the document once when the event is redelivered under other job ids', async () => {
    const Order = db.model('Order', new mongoose.Schema({ _id: String, confirmations: Number, ...processedEventsFields }));
    const event = confirmed();
    await Order.create({ _id: event.payload.reservationId, confirmations: 0 });
    let calls = 0;
    await consume('stores', {
      ReservationConfirmed: async (e) => {
        calls += 1;
        await Order.updateOne(
          { _id: e.payload.reservationId, ...notProcessed(e.eventId) },
          { $inc: { confirmations: 1 }, $set: { ...markProcessed(e.eventId) } },
        );
      },
    });
    // At-least-once redelivery: the same envelope as three distinct jobs.
    for (let i = 0; i < 3; i++) await bus.queue('stores').add(event.type, event, { jobId: randomUUID() });
    await waitFor(() => calls === 3, 5000, 'three deliveries');
    await waitFor(async () => (await bus.queue('stores').getJobCounts('completed')).completed === 3, 5000, 'jobs completed');
    const doc = await Order.findById(event.payload.reservationId).lean();
    expect(doc?.confirmations).toBe(1);
    expect(doc?.processedEvents).toEqual({ [event.eventId]: true });
  });

  it('retries a throwing handler with backoff, then keeps the job in the failed set', async () => {
    const event = confirmed();
    const attempts: { at: number; attempt: number }[] = [];
    await consume('stores', {
      ReservationConfirmed: async (_e, ctx) => {
        attempts.push({ at: Date.now(), attempt: ctx.attempt });
        throw new Error('store database down');
      },
    });
    await bus.publish(event);
    await waitFor(async () => (await bus.queue('stores').getFailed()).length === 1, 10_000, 'failed job');
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Exponential: ≥50 ms before the 2nd try, ≥100 ms before the 3rd.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(45);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(95);
    const [failed] = await bus.queue('stores').getFailed();
    expect(failed?.id).toBe(event.eventId);
    expect(failed?.attemptsMade).toBe(3);
    expect(failed?.failedReason).toBe('store database down');
    expect((await queueDepth(bus))['stores-events']).toMatchObject({ failed: 1, waiting: 0 });
  });

  it('fails an invalid event at once, without retries', async () => {
    let calls = 0;
    await consume('stores', { ReservationConfirmed: async () => void (calls += 1) });
    const bad = { ...confirmed(), payload: { reservationId: 'x' } };
    await bus.queue('stores').add('ReservationConfirmed', bad, { jobId: bad.eventId, attempts: 5, backoff: 50 });
    await waitFor(async () => (await bus.queue('stores').getFailed()).length === 1, 5000, 'failed job');
    const [failed] = await bus.queue('stores').getFailed();
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/payload\.customerId: Required/);
    expect(calls).toBe(0);
  });

  it('refuses to publish an invalid event', async () => {
    const bad = { ...confirmed(), occurredAt: 'now' };
    await expect(bus.publish(bad)).rejects.toThrow(/occurredAt/);
  });

  it('acknowledges events without a handler as no-ops', async () => {
    await consume('stores', {});
    const event = confirmed();
    await bus.publish(event);
    await waitFor(async () => (await bus.queue('stores').getJobCounts('completed')).completed === 1, 5000, 'no-op completion');
  });

  it('keeps events while the consumer is down and handles all of them when it starts', async () => {
    const events = Array.from({ length: 50 }, () => confirmed());
    for (const e of events) await bus.publish(e);
    expect((await queueDepth(bus))['stores-events']).toMatchObject({ waiting: 50, active: 0, failed: 0 });
    const handled = new Set<string>();
    await consume('stores', { ReservationConfirmed: async (e) => void handled.add(e.eventId) });
    await waitFor(() => handled.size === 50, 10_000, '50 events handled');
    expect([...handled].sort()).toEqual(events.map((e) => e.eventId).sort());
    await waitFor(async () => (await queueDepth(bus))['stores-events']!.waiting === 0, 5000, 'queue drained');
  });

  it('close() waits for the active job to finish', async () => {
    let finished = false;
    let started = false;
    const consumer = await consume('stores', {
      ReservationConfirmed: async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 300));
        finished = true;
      },
    });
    await bus.publish(confirmed());
    await waitFor(() => started, 5000, 'job start');
    consumers.splice(consumers.indexOf(consumer), 1);
    await consumer.close();
    expect(finished).toBe(true);
    expect((await bus.queue('stores').getJobCounts('completed')).completed).toBe(1);
  });
});
