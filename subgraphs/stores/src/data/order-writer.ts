/**
 * Every write to store order documents goes through here: each one holds the
 * order's lock (see order-lock.ts) and is followed, under the same lock, by a
 * flush of the order's outbox. The background sweep (start-up and every
 * `OUTBOX_SWEEP_MS`) flushes under the lock too, so the relay's `$unset` can
 * never race a state change on FerretDB.
 *
 * A failed flush does not fail the write: the event is safe in the outbox and
 * the sweep publishes it later.
 */
import type { EventOf, OutboxRelay } from '@rental/events';
import { notFound } from '@rental/errors';
import type { Logger } from '@rental/observability';
import { nextStatus, storeOrderIdFor } from '../domain/index.js';
import type { StoreOrderDoc, StoreOrderModel } from './models.js';
import type { OrderLocks } from './order-lock.js';
import {
  cancelFromReservation,
  createFromConfirmed,
  findOrder,
  handOverFromRental,
  markPrepared,
  type HandlerOutcome,
} from './store-orders.js';

export interface StoreOrderWriterOptions {
  StoreOrder: StoreOrderModel;
  locks: OrderLocks;
  relay: OutboxRelay;
  logger: Logger;
  sweepMs: number;
}

/** Documents the sweep handles per round. */
const SWEEP_BATCH = 500;

export class StoreOrderWriter {
  private readonly StoreOrder: StoreOrderModel;
  private readonly locks: OrderLocks;
  private readonly relay: OutboxRelay;
  private readonly log: Logger;
  private readonly sweepMs: number;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(options: StoreOrderWriterOptions) {
    this.StoreOrder = options.StoreOrder;
    this.locks = options.locks;
    this.relay = options.relay;
    this.log = options.logger;
    this.sweepMs = options.sweepMs;
  }

  /**
   * `prepareOrder`: `authorize` sees the order first (NOT_FOUND, FORBIDDEN and
   * an obvious INVALID_STATE answer without taking the lock); the move itself
   * re-reads the order under the lock, so of concurrent prepares one wins and
   * the others get INVALID_STATE.
   */
  async prepare(orderId: string, authorize: (order: StoreOrderDoc) => void, requestId?: string): Promise<StoreOrderDoc> {
    const seen = await findOrder(this.StoreOrder, orderId);
    if (!seen) throw notFound('store order', orderId);
    authorize(seen);
    nextStatus('prepare', seen.status, orderId);
    return this.locks.run(orderId, async () => {
      const current = await findOrder(this.StoreOrder, orderId);
      if (!current) throw notFound('store order', orderId);
      const updated = await markPrepared(this.StoreOrder, current, requestId);
      await this.flushUnlocked(orderId);
      return updated;
    });
  }

  onConfirmed(event: EventOf<'ReservationConfirmed'>) {
    return this.locked(event.payload.reservationId, () => createFromConfirmed(this.StoreOrder, event));
  }

  onCancelled(event: EventOf<'ReservationCancelled'>) {
    return this.locked(event.payload.reservationId, () => cancelFromReservation(this.StoreOrder, event));
  }

  onRentalStarted(event: EventOf<'RentalStarted'>) {
    return this.locked(event.payload.reservationId, () => handOverFromRental(this.StoreOrder, event));
  }

  /** Publishes what the order's outbox holds, under its lock. */
  async flush(orderId: string): Promise<void> {
    await this.locks.run(orderId, () => this.flushUnlocked(orderId));
  }

  /** Sweeps at once (start-up recovery), then every `sweepMs`. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((err: unknown) => this.log.error({ err }, 'store order outbox sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
        });
    };
    tick();
    this.timer = setInterval(tick, this.sweepMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** One pass over every order with pending events. */
  async sweep(): Promise<void> {
    const pending = await this.StoreOrder.find({ outboxCount: { $gt: 0 } })
      .sort({ _id: 1 })
      .limit(SWEEP_BATCH)
      .select({ _id: 1 })
      .lean<{ _id: string }[]>();
    const results = await Promise.allSettled(pending.map((d) => this.flush(d._id)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) this.log.warn({ failed: failed.length, err: (failed[0] as PromiseRejectedResult).reason }, 'outbox sweep: some orders not flushed; next round retries');
  }

  private async locked(
    reservationId: string,
    write: () => Promise<{ outcome: HandlerOutcome; orderId: string }>,
  ): Promise<{ outcome: HandlerOutcome; orderId: string }> {
    return this.locks.run(storeOrderIdFor(reservationId), async () => {
      const result = await write();
      if (result.outcome === 'applied') await this.flushUnlocked(result.orderId);
      return result;
    });
  }

  private async flushUnlocked(orderId: string): Promise<void> {
    try {
      await this.relay.flush(orderId, this.StoreOrder);
    } catch (err) {
      this.log.warn({ err, orderId }, 'outbox flush failed; the sweep will retry');
    }
  }
}
