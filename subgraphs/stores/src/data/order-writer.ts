/**
 * Every write to store order documents goes through here, followed by a flush
 * of the order's outbox so consumers hear of it at once. A failed flush does
 * not fail the write: the event is safe in the outbox and the relay's sweep
 * (start-up and every `OUTBOX_SWEEP_MS`) publishes it later.
 *
 * Concurrency rests on single-document atomicity (docs/ARCHITECTURE.md,
 * "MongoDB subset"): each move is one conditional update from the expected
 * status, so of concurrent writers exactly one wins. MongoDB guarantees it;
 * stock FerretDB 1.24 does not (measured: five concurrent `PENDING → READY`
 * updates all reported success), which is why the local build is patched and
 * the stores race tests (worker.test.ts, orders.test.ts) fail on a server
 * without the guarantee.
 */
import type { EventBus, EventOf, OutboxRelay } from '@rental/events';
import { notFound } from '@rental/errors';
import type { Logger } from '@rental/observability';
import type { StoreOrderDoc } from './models.js';
import { storeOrderCreated, type HandlerOutcome, type StoreOrdersData } from './store-orders-data.js';

/** What a writer needs: the store orders' data access, the relay that flushes their outbox, the bus. */
export interface StoreOrderWriterOptions {
  data: StoreOrdersData;
  relay: OutboxRelay;
  /** Publishes what has no outbox: `StoreOrderCreated` (see `onConfirmed`). */
  bus: EventBus;
  logger: Logger;
}

type Outcome = { outcome: HandlerOutcome; orderId: string };

/** The store order writes of both processes, each followed by a flush of the order's outbox (see the header). */
export class StoreOrderWriter {
  private readonly data: StoreOrdersData;
  private readonly relay: OutboxRelay;
  private readonly bus: EventBus;
  private readonly log: Logger;

  constructor(options: StoreOrderWriterOptions) {
    this.data = options.data;
    this.relay = options.relay;
    this.bus = options.bus;
    this.log = options.logger;
  }

  /**
   * `prepareOrder`: NOT_FOUND for an unknown order (or a tombstone), then
   * `authorize` (FORBIDDEN), then PENDING → READY (INVALID_STATE otherwise,
   * also for the losers of concurrent prepares). Answers after the flush.
   */
  async prepare(orderId: string, authorize: (order: StoreOrderDoc) => void, requestId?: string): Promise<StoreOrderDoc> {
    const order = await this.data.findById(orderId);
    if (!order) throw notFound('store order', orderId);
    authorize(order);
    const updated = await this.data.markPrepared(order, requestId);
    await this.flush(orderId);
    return updated;
  }

  /**
   * `ReservationConfirmed`: the order (one insert), then `StoreOrderCreated`
   * published straight to the bus with its derived id. A failed publish fails
   * the job, so BullMQ retries it: the retry finds the order and publishes
   * again. A repeat that finds the live order publishes again too (the first
   * handler may have died between its insert and its publish); the same
   * event id makes that harmless.
   */
  async onConfirmed(event: EventOf<'ReservationConfirmed'>): Promise<Outcome> {
    const { outcome, orderId, order } = await this.data.createFromConfirmed(event);
    if (order && order.status !== 'CANCELLED') await this.bus.publish(storeOrderCreated(order, { requestId: event.requestId }));
    return { outcome, orderId };
  }

  onCancelled(event: EventOf<'ReservationCancelled'>): Promise<Outcome> {
    return this.thenFlush(this.data.cancelFromReservation(event));
  }

  onRentalStarted(event: EventOf<'RentalStarted'>): Promise<Outcome> {
    return this.thenFlush(this.data.handOverFromRental(event));
  }

  /** Publishes what the order's outbox holds; failures are logged and left to the sweep. */
  async flush(orderId: string): Promise<void> {
    try {
      await this.relay.flush(orderId, this.data.model);
    } catch (err) {
      this.log.warn({ err, orderId }, 'outbox flush failed; the sweep will retry');
    }
  }

  /** Starts the relay's sweep (at once, then every `OUTBOX_SWEEP_MS`). */
  start(): void {
    this.relay.start();
  }

  async stop(): Promise<void> {
    await this.relay.stop();
  }

  private async thenFlush(write: Promise<Outcome>): Promise<Outcome> {
    const result = await write;
    if (result.outcome === 'applied') await this.flush(result.orderId);
    return result;
  }
}
