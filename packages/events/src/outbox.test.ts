/**
 * The on-document outbox and its relay against the real FerretDB/MongoDB and Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mongoose, { type Connection, type Model } from 'mongoose';
import { EventBus } from './bus.js';
import { createEvent, type DomainEvent } from './catalog.js';
import { startConsumer } from './consumer.js';
import { initialOutbox, OutboxRelay, outboxFields, withOutbox, type OutboxState } from './outbox.js';
import { obliterateQueues, testLogger, testServers, uniqueName, waitFor } from './test-support.js';

const { redisUrl, mongoUri } = testServers();
const prefix = uniqueName('outbox');
const dbName = uniqueName('outbox');
let bus: EventBus;
let db: Connection;
interface ReservationDoc extends OutboxState {
  _id: string;
  status: string;
}
let Reservation: Model<ReservationDoc>;
const relays: OutboxRelay[] = [];

function newRelay(options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}): OutboxRelay {
  const relay = new OutboxRelay({ models: [Reservation], bus, logger: testLogger, sweepMs: 60_000, ...options });
  relays.push(relay);
  return relay;
}

function cancelled(reservationId: string): DomainEvent {
  return createEvent('ReservationCancelled', { reservationId, customerId: 'c1', reason: 'test' });
}

/** Writes the state change and its event in one update, as a producer does. */
async function cancelReservation(id: string): Promise<DomainEvent> {
  const event = cancelled(id);
  const result = await Reservation.updateOne({ _id: id, status: 'CONFIRMED' }, withOutbox({ $set: { status: 'CANCELLED' } }, [event]));
  expect(result.modifiedCount).toBe(1);
  return event;
}

async function jobsOf(eventId: string) {
  return Promise.all((['stores', 'rentals', 'reservations'] as const).map((s) => bus.queue(s).getJob(eventId)));
}

beforeAll(async () => {
  bus = new EventBus({ redisUrl, prefix, attempts: 2, backoffMs: 50, logger: testLogger });
  db = await mongoose.createConnection(mongoUri, { dbName }).asPromise();
  Reservation = db.model<ReservationDoc>('Reservation', new mongoose.Schema({ _id: String, status: String, ...outboxFields }));
  await Reservation.init();
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  await obliterateQueues(bus);
  await Reservation.deleteMany({});
});

afterAll(async () => {
  await bus.close();
  await db.dropDatabase();
  await db.close();
});

describe('withOutbox / initialOutbox', () => {
  it('merges the outbox into an update without touching the rest', () => {
    const a = cancelled('r1');
    const b = cancelled('r1');
    const update = { $set: { status: 'CANCELLED' }, $inc: { version: 1 }, $push: { history: { status: 'CANCELLED' } } };
    const merged = withOutbox(update, [a, b]);
    expect(merged).toEqual({
      $set: { status: 'CANCELLED', [`outbox.${a.eventId}`]: a, [`outbox.${b.eventId}`]: b },
      $inc: { version: 1, outboxCount: 2 },
      $push: { history: { status: 'CANCELLED' } },
    });
    expect(update.$set).toEqual({ status: 'CANCELLED' }); // not mutated
    expect(withOutbox(update, [])).toBe(update);
  });

  it('refuses invalid events, repeated events and updates that write the outbox themselves', () => {
    const a = cancelled('r1');
    expect(() => withOutbox({ $set: {} }, [{ ...a, correlationId: 'other' }])).toThrow(/correlationId/);
    expect(() => withOutbox({ $set: {} }, [a, a])).toThrow(/given twice/);
    expect(() => withOutbox({ $set: { outbox: {} } }, [a])).toThrow(/already writes/);
  });

  it('builds the outbox of a new document', () => {
    const a = cancelled('r1');
    expect(initialOutbox([a])).toEqual({ outbox: { [a.eventId]: a }, outboxCount: 1 });
  });
});

describe('OutboxRelay', () => {
  it('delivers an event left in the outbox by a crash when a new relay starts, and empties the outbox', async () => {
    const id = randomUUID();
    await Reservation.create({ _id: id, status: 'CONFIRMED' });
    const event = await cancelReservation(id);
    // "Crash": the process dies here, nothing was flushed.
    const stored = await Reservation.findById(id).lean();
    expect(stored).toMatchObject({ status: 'CANCELLED', outboxCount: 1 });
    expect(stored?.outbox?.[event.eventId]).toEqual(event);

    const received: DomainEvent[] = [];
    const consumer = await startConsumer({
      subgraph: 'stores',
      redisUrl,
      prefix,
      logger: testLogger,
      handlers: { ReservationCancelled: async (e) => void received.push(e) },
    });
    try {
      newRelay().start(); // start-up recovery
      await waitFor(() => received.length === 1, 5000, 'delivery to stores');
      expect(received[0]).toEqual(event);
      await waitFor(async () => (await Reservation.findById(id).lean())?.outboxCount === 0, 5000, 'outbox emptied');
      const after = await Reservation.findById(id).lean();
      expect(after?.outbox ?? {}).toEqual({});
      // Routed to every consumer of ReservationCancelled.
      const [stores, rentals, reservations] = await jobsOf(event.eventId);
      expect([stores?.name, rentals?.name, reservations?.name]).toEqual(Array(3).fill('ReservationCancelled'));
    } finally {
      await consumer.close();
    }
  });

  it('publishWritten publishes the events the caller wrote and removes them all in one update, reading nothing', async () => {
    const id = randomUUID();
    await Reservation.create({ _id: id, status: 'CONFIRMED' });
    const events = [cancelled(id), cancelled(id)];
    await Reservation.updateOne({ _id: id }, withOutbox({ $set: { status: 'CANCELLED' } }, events));
    const commands: string[] = [];
    const monitored = await mongoose.createConnection(mongoUri, { dbName, monitorCommands: true }).asPromise();
    monitored.getClient().on('commandStarted', (e) => commands.push(e.commandName));
    const Monitored = monitored.model<ReservationDoc>('Reservation', Reservation.schema);
    try {
      await Monitored.init();
      commands.length = 0;
      expect(await newRelay({ models: [Monitored] }).publishWritten(Monitored, id, events)).toBe(2);
      expect(commands).toEqual(['update']);
    } finally {
      await monitored.close();
    }
    for (const e of events) expect((await jobsOf(e.eventId)).filter(Boolean)).toHaveLength(3); // stores, rentals, reservations
    expect(await Reservation.findById(id).lean()).toMatchObject({ outboxCount: 0, outbox: {} });
  });

  it('flushing twice publishes once; concurrent flushes of one document publish once', async () => {
    const id = randomUUID();
    await Reservation.create({ _id: id, status: 'CONFIRMED' });
    await cancelReservation(id);
    const relay = newRelay();
    const counts = await Promise.all([relay.flush(id), relay.flush(id), relay.flush()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await relay.flush(id)).toBe(0);
    expect(await relay.flush()).toBe(0);
    expect((await bus.queue('rentals').getJobCounts('waiting')).waiting).toBe(1);
    expect((await Reservation.findById(id).lean())?.outboxCount).toBe(0);
  });

  it('a crash after the publish and before the removal re-publishes, and the queue drops the duplicate', async () => {
    const id = randomUUID();
    await Reservation.create({ _id: id, status: 'CONFIRMED' });
    const event = await cancelReservation(id);
    await bus.publish(event); // the first relay published, then died before $unset
    expect(await newRelay().flush(id)).toBe(1);
    expect((await bus.queue('stores').getJobCounts('waiting')).waiting).toBe(1);
    expect(await Reservation.findById(id).lean()).toMatchObject({ outboxCount: 0, outbox: {} });
  });

  it('two relays removing the same entry decrement the counter once', async () => {
    const id = randomUUID();
    await Reservation.create({ _id: id, status: 'CONFIRMED' });
    await cancelReservation(id);
    const results = await Promise.all([newRelay().flush(id), newRelay().flush(id)]);
    expect(results.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect((await Reservation.findById(id).lean())?.outboxCount).toBe(0);
    expect((await bus.queue('stores').getJobCounts('waiting')).waiting).toBe(1);
  });

  it('publishes a document created with its events (initialOutbox)', async () => {
    const id = randomUUID();
    const event = cancelled(id);
    await Reservation.create({ _id: id, status: 'CANCELLED', ...initialOutbox([event]) });
    expect(await newRelay().flush(id)).toBe(1);
    expect(await bus.queue('stores').getJob(event.eventId)).toBeDefined();
  });

  it('sweeps every pending document, in batches, and keeps the events order within a document', async () => {
    const ids = Array.from({ length: 7 }, () => randomUUID());
    for (const id of ids) await Reservation.create({ _id: id, status: 'CONFIRMED' });
    for (const id of ids) await cancelReservation(id);
    const id0 = ids[0]!;
    const later = createEvent('RentalStarted', { rentalId: 'rent-1', reservationId: id0 });
    await Reservation.updateOne({ _id: id0 }, withOutbox({}, [later]));
    await Reservation.create({ _id: randomUUID(), status: 'CONFIRMED' }); // nothing pending

    expect(await newRelay({ batchSize: 2 }).flush()).toBe(8);
    expect(await Reservation.countDocuments({ outboxCount: { $gt: 0 } })).toBe(0);
    // Oldest first, in the queue's own order (job timestamps have millisecond resolution and may tie).
    const reservationsJobs = await bus.queue('reservations').getJobs(['waiting'], 0, -1, true);
    expect(reservationsJobs).toHaveLength(8);
    const ofId0 = reservationsJobs.filter((j) => j.data.correlationId === id0);
    expect(ofId0.map((j) => j.name)).toEqual(['ReservationCancelled', 'RentalStarted']);
  });

  it('the periodic sweep picks up events written later', async () => {
    const relay = newRelay({ sweepMs: 100 });
    relay.start();
    const id = randomUUID();
    await Reservation.create({ _id: id, status: 'CONFIRMED' });
    const event = await cancelReservation(id);
    await waitFor(async () => (await bus.queue('stores').getJob(event.eventId)) !== undefined, 5000, 'sweep publish');
    await waitFor(async () => (await Reservation.findById(id).lean())?.outboxCount === 0, 5000, 'outbox emptied');
  });

  it('flush of an id of another type, or of an unknown document, publishes nothing', async () => {
    const Other = db.model('OtherDoc', new mongoose.Schema({ ...outboxFields }));
    const relay = newRelay({ models: [Other, Reservation] });
    expect(await relay.flush('not-an-object-id')).toBe(0);
    expect(await relay.flush(randomUUID())).toBe(0);
  });

  it('keeps the event in the outbox when the publish fails', async () => {
    const id = randomUUID();
    await Reservation.create({ _id: id, status: 'CONFIRMED' });
    await cancelReservation(id);
    const deadBus = new EventBus({ redisUrl: 'redis://127.0.0.1:1', prefix, logger: testLogger, publishTimeoutMs: 300 });
    try {
      await expect(newRelay({ bus: deadBus }).flush(id)).rejects.toThrow(/timed out/);
    } finally {
      await deadBus.close();
    }
    expect((await Reservation.findById(id).lean())?.outboxCount).toBe(1);
    expect(await newRelay().flush(id)).toBe(1);
  });
});
