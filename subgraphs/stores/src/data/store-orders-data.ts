/**
 * Data access for store orders: the reads of the API, `prepareOrder`, and the
 * event handlers of the worker.
 *
 * Every state change is ONE conditional single-document update from the
 * expected previous status (FerretDB subset, docs/ARCHITECTURE.md), carrying
 * its event in the document's outbox (`withOutbox`/`initialOutbox`) and, for
 * event handlers, `markProcessed(eventId)` guarded by `notProcessed(eventId)`.
 * A repeated or late event therefore matches nothing and changes nothing.
 */
import { nameBasedId } from '@rental/db';
import { createEvent, markProcessed, notProcessed, withOutbox, type EventOf } from '@rental/events';
import { notFound } from '@rental/errors';
import { afterInNewestFirst, NEWEST_FIRST, pageOf, type Page } from '@rental/subgraph-server/pagination';
import { nextStatus, storeOrderIdFor, TRANSITIONS, type StoreOrderStatus } from '../domain/index.js';
import { isDuplicateKey, type StoreOrderDoc, type StoreOrderModel } from './models.js';

/** Filter fragment: only real orders, never tombstones. */
const live = { tombstone: { $exists: false } };

/** A page of a store's orders, newest first. */
export interface StoreOrderPage extends Page<StoreOrderDoc> {
  /** Counts the store's orders matching the status filter (ignoring the cursor); called only when asked for. */
  count: () => Promise<number>;
}

/** What an event handler did, for logs and tests. */
export type HandlerOutcome = 'applied' | 'skipped' | 'tombstone';

/**
 * The id of the `StoreOrderCreated` event of an order: derived from the order
 * id, so every publication of it (the first, and any after a crash or a
 * repeated `ReservationConfirmed`) carries the same id; BullMQ drops the
 * repeats and the consumer's idempotency absorbs the rest.
 */
export function storeOrderCreatedEventId(orderId: string): string {
  return nameBasedId('stores:StoreOrderCreated', orderId);
}

/** The `StoreOrderCreated` event of an order created at `createdAt`. */
export function storeOrderCreated(order: Pick<StoreOrderDoc, '_id' | 'reservationId' | 'storeId' | 'createdAt'>, origin: { requestId?: string } = {}) {
  return createEvent(
    'StoreOrderCreated',
    { orderId: order._id, reservationId: order.reservationId, storeId: order.storeId },
    { eventId: storeOrderCreatedEventId(order._id), occurredAt: new Date(order.createdAt), ...origin },
  );
}

/** The reads and writes of the store order aggregate, on one connection's model. */
export class StoreOrdersData {
  constructor(readonly model: StoreOrderModel) {}

  /** A live order by id (a tombstone is none). */
  async findById(orderId: string): Promise<StoreOrderDoc | null> {
    return this.model.findOne({ _id: orderId, ...live }).lean<StoreOrderDoc>();
  }

  /**
   * A page of a store's orders, newest first (`createdAt`, then `_id`: the
   * index `{storeId, createdAt, _id}`), optionally only some statuses, `first`
   * of them after the order `after`.
   */
  async page(
    storeId: string,
    statuses: readonly StoreOrderStatus[] | null | undefined,
    first: number,
    after: { createdAt: Date; id: string } | null,
  ): Promise<StoreOrderPage> {
    const filter: Record<string, unknown> = { storeId, ...live };
    if (statuses && statuses.length > 0) filter.status = { $in: [...new Set(statuses)] };
    const paged = after ? { ...filter, ...afterInNewestFirst(after) } : filter;
    const docs = await this.model.find(paged).sort(NEWEST_FIRST).limit(first + 1).lean<StoreOrderDoc[]>();
    return { ...pageOf(docs, first), count: () => this.model.countDocuments(filter).exec() };
  }

  /** Orders by reservation id, in the order of `reservationIds` (null where none): the DataLoader batch function. */
  async findByReservationIds(reservationIds: readonly string[]): Promise<(StoreOrderDoc | null)[]> {
    // The order id derives from the reservation id: a lookup by `_id` (see storeOrderIdFor).
    const docs = await this.model.find({ _id: { $in: [...new Set(reservationIds)].map(storeOrderIdFor) }, ...live }).lean<StoreOrderDoc[]>();
    const byReservation = new Map(docs.map((d) => [d.reservationId, d]));
    return reservationIds.map((id) => byReservation.get(id) ?? null);
  }

  /** Orders by id, in the order of `ids` (null where unknown). */
  async findByIds(ids: readonly string[]): Promise<(StoreOrderDoc | null)[]> {
    const docs = await this.model.find({ _id: { $in: [...new Set(ids)] }, ...live }).lean<StoreOrderDoc[]>();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * PENDING → READY with `StoreOrderPrepared` in the outbox, in one update.
   * The caller has checked access. INVALID_STATE when the order is not PENDING
   * (prepared twice, cancelled, handed over), also when a concurrent call won.
   */
  async markPrepared(order: StoreOrderDoc, requestId?: string): Promise<StoreOrderDoc> {
    const to = nextStatus('prepare', order.status, order._id);
    const now = new Date();
    const prepared = createEvent(
      'StoreOrderPrepared',
      { orderId: order._id, reservationId: order.reservationId, storeId: order.storeId },
      { requestId },
    );
    const updated = await this.model.findOneAndUpdate(
      { _id: order._id, status: { $in: [...TRANSITIONS.prepare.from] }, ...live },
      withOutbox({ $set: { status: to, preparedAt: now }, $push: { history: { status: to, at: now, reason: null } } }, [prepared]),
      { new: true },
    ).lean<StoreOrderDoc>();
    if (updated) return updated;
    // Lost a race (another prepare, or a cancel): answer from the current status.
    const current = await this.findById(order._id);
    if (!current) throw notFound('store order', order._id);
    nextStatus('prepare', current.status, order._id);
    throw new Error(`store order ${order._id}: prepare matched nothing while ${current.status}`);
  }

  /**
   * `ReservationConfirmed` → a PENDING order: ONE insert, with no outbox. The
   * order id is derived from the reservation id, so a repeat fails the insert
   * on `_id` and creates nothing. The caller publishes `StoreOrderCreated`
   * after this resolves, and again for a repeat that finds the live order
   * (`existing`): the job being handled is the outbox here, because BullMQ
   * retries it until the handler (insert, then publish) has succeeded once.
   * If a tombstone is there (the cancel came first), the details are filled in
   * and the order stays CANCELLED, with no event: the reservation is already
   * cancelled.
   */
  async createFromConfirmed(event: EventOf<'ReservationConfirmed'>): Promise<{ outcome: HandlerOutcome; orderId: string; order?: StoreOrderDoc }> {
    const p = event.payload;
    const orderId = storeOrderIdFor(p.reservationId);
    const details = {
      reservationId: p.reservationId,
      storeId: p.storeId,
      itemId: p.itemId,
      itemName: p.itemName,
      quantity: p.quantity,
      startDate: p.startDate,
      endDate: p.endDate,
      customerId: p.customerId,
      totalPrice: p.totalPrice,
    };
    const now = new Date();
    // Written with the driver: one insert command, nothing read, no mongoose document built on every
    // reservation (the schema stays the contract; orders.test.ts checks a stored order against it).
    const order: StoreOrderDoc = {
      _id: orderId,
      ...details,
      status: 'PENDING',
      preparedAt: null,
      handedOverAt: null,
      cancelledAt: null,
      history: [{ status: 'PENDING', at: now, reason: 'reservation confirmed' }],
      processedEvents: markProcessedMap(event.eventId),
      outbox: {},
      outboxCount: 0,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.model.collection.insertOne(order as never);
      return { outcome: 'applied', orderId, order };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const filled = await this.model.updateOne(
      { _id: orderId, tombstone: true, ...notProcessed(event.eventId) },
      { $set: { ...details, ...markProcessed(event.eventId) }, $unset: { tombstone: '' } },
    );
    if (filled.modifiedCount > 0) return { outcome: 'tombstone', orderId };
    const existing = await this.findById(orderId);
    return { outcome: 'skipped', orderId, ...(existing ? { order: existing } : {}) };
  }

  /**
   * `ReservationCancelled` → a PENDING or READY order becomes CANCELLED with
   * `StoreOrderCancelled` in its outbox. With no order yet, a tombstone is
   * written (see models.ts) so a late confirm cannot create a live order. An
   * order already CANCELLED or HANDED_OVER is left alone.
   */
  async cancelFromReservation(event: EventOf<'ReservationCancelled'>): Promise<{ outcome: HandlerOutcome; orderId: string }> {
    const { reservationId, customerId, reason } = event.payload;
    const orderId = storeOrderIdFor(reservationId);
    // Two rounds at most: a confirm may insert the order between our update and our tombstone insert.
    for (let round = 0; round < 3; round += 1) {
      const now = new Date();
      const cancelled = createEvent(
        'StoreOrderCancelled',
        { orderId, reservationId },
        { correlationId: event.correlationId, requestId: event.requestId },
      );
      const to = TRANSITIONS.cancel.to;
      const res = await this.model.updateOne(
        { _id: orderId, status: { $in: [...TRANSITIONS.cancel.from] }, ...live, ...notProcessed(event.eventId) },
        withOutbox(
          {
            $set: { status: to, cancelledAt: now, ...markProcessed(event.eventId) },
            $push: { history: { status: to, at: now, reason: reason || 'reservation cancelled' } },
          },
          [cancelled],
        ),
      );
      if (res.modifiedCount > 0) return { outcome: 'applied', orderId };
      const existing = await this.model.exists({ _id: orderId });
      if (existing) {
        // Already cancelled, handed over, a tombstone, or this event was processed: nothing to do,
        // unless the order is (still) live and unprocessed, which the update above would have caught.
        const again = await this.model.exists({ _id: orderId, status: { $in: [...TRANSITIONS.cancel.from] }, ...live, ...notProcessed(event.eventId) });
        if (!again) return { outcome: 'skipped', orderId };
        continue;
      }
      try {
        await this.model.create({
          _id: orderId,
          reservationId,
          customerId,
          status: 'CANCELLED',
          tombstone: true,
          cancelledAt: now,
          history: [{ status: 'CANCELLED', at: now, reason: reason || 'reservation cancelled before confirmation reached the store' }],
          processedEvents: markProcessedMap(event.eventId),
        });
        return { outcome: 'tombstone', orderId };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // The confirm inserted the order meanwhile: cancel it in the next round.
      }
    }
    throw new Error(`store order ${orderId}: could not settle the cancel of reservation ${reservationId}`);
  }

  /** `RentalStarted` → a READY order becomes HANDED_OVER (no event: nobody consumes one). */
  async handOverFromRental(event: EventOf<'RentalStarted'>): Promise<{ outcome: HandlerOutcome; orderId: string }> {
    const orderId = storeOrderIdFor(event.payload.reservationId);
    const now = new Date();
    const to = TRANSITIONS.handOver.to;
    const res = await this.model.updateOne(
      { _id: orderId, status: { $in: [...TRANSITIONS.handOver.from] }, ...live, ...notProcessed(event.eventId) },
      {
        $set: { status: to, handedOverAt: now, ...markProcessed(event.eventId) },
        $push: { history: { status: to, at: now, reason: `rental ${event.payload.rentalId} started` } },
      },
    );
    return { outcome: res.modifiedCount > 0 ? 'applied' : 'skipped', orderId };
  }
}

/** `processedEvents` of a document being created by `eventId`. */
function markProcessedMap(eventId: string): Record<string, true> {
  const [path, value] = Object.entries(markProcessed(eventId))[0]!;
  return { [path.slice('processedEvents.'.length)]: value };
}
