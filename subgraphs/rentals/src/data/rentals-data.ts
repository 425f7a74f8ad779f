/**
 * Data access of the rentals subgraph. Every state change is ONE conditional
 * single-document update from the expected state (the FerretDB 1.24 subset:
 * keyed `$set`/`$unset`, `$inc`, `$exists`); each returns the document after
 * the change, or `null` when its condition no longer held (someone else moved
 * the state first). Events go into the outbox in that same update
 * (`withOutbox`), processed event ids too (`markProcessed`).
 *
 * Concurrency rests on single-document atomicity (docs/ARCHITECTURE.md,
 * "MongoDB subset"): of concurrent conditional updates from one state exactly
 * one matches and the others change nothing. MongoDB guarantees it; stock
 * FerretDB 1.24 does not, which is why the local build is patched
 * (`infra/local/atomicity.test.ts`) and why the race tests here (start vs
 * refund, concurrent returns, refunds and charges) fail on a server without
 * the guarantee. No lock is taken anywhere: nothing reads a rental, decides,
 * and writes back unconditionally.
 */
import { randomUUID } from 'node:crypto';
import { nameBasedId } from '@rental/db';
import { markProcessed, notProcessed, withOutbox, type DomainEvent } from '@rental/events';
import type { PaymentState, RentalState } from '../domain/index.js';
import type { PaymentDoc, RentalDoc, RentalModel } from './rental-model.js';

/** What `chargePayment` records. */
export interface NewCharge {
  reservationId: string;
  customerId: string;
  storeId: string;
  itemId: string;
  quantity: number;
  amount: number;
  currency: string;
  token: string;
  provider: string;
}

/** The provider's final answer to a charge, as recorded. */
export interface ChargeOutcome {
  status: Extract<PaymentState, 'PAID' | 'DECLINED' | 'FAILED'>;
  reason: string | null;
  providerRef: string | null;
}

const AFTER = { returnDocument: 'after' as const };

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * A rental's id, derived from its reservation's: one rental per reservation,
 * found by `_id` wherever the reservation id is known (see `nameBasedId`).
 */
export function rentalIdFor(reservationId: string): string {
  return nameBasedId('rental:rental', reservationId);
}

export class RentalsData {
  constructor(readonly model: RentalModel) {}

  findById(id: string): Promise<RentalDoc | null> {
    return this.model.findById(id).lean<RentalDoc>().exec();
  }

  findByReservation(reservationId: string): Promise<RentalDoc | null> {
    return this.model.findById(rentalIdFor(reservationId)).lean<RentalDoc>().exec();
  }

  /** For DataLoader: one entry per id, in order, `null` where there is none. */
  async findByIds(ids: readonly string[]): Promise<(RentalDoc | null)[]> {
    const docs = await this.model.find({ _id: { $in: [...ids] } }).lean<RentalDoc[]>().exec();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** For DataLoader: one entry per reservation id, in order, `null` where there is none. */
  async findByReservationIds(reservationIds: readonly string[]): Promise<(RentalDoc | null)[]> {
    const docs = await this.model.find({ _id: { $in: reservationIds.map(rentalIdFor) } }).lean<RentalDoc[]>().exec();
    const byReservation = new Map(docs.map((d) => [d.reservationId, d]));
    return reservationIds.map((id) => byReservation.get(id) ?? null);
  }

  /**
   * The charge lock: inserts the rental with a `PROCESSING` payment unless one
   * exists for the reservation. The insert is conditional on the unique index
   * on `reservationId` (a duplicate is refused with E11000, however
   * concurrent, on MongoDB and FerretDB alike), so `inserted` is true for
   * exactly one caller per reservation, and only that caller may call the
   * provider. (A plain insert rather than an upsert with `$setOnInsert`: an
   * insert never writes to an existing document, so a duplicate call cannot
   * touch a charge in flight.)
   */
  async insertProcessing(charge: NewCharge, now = new Date()): Promise<{ doc: RentalDoc; inserted: boolean }> {
    const payment: PaymentDoc = {
      id: randomUUID(),
      status: 'PROCESSING',
      amount: charge.amount,
      currency: charge.currency,
      reason: null,
      provider: charge.provider,
      token: charge.token,
      providerRef: null,
      providerCalls: 1,
      attemptStartedAt: now,
      refundRequested: false,
      settledAt: null,
      refundAttemptAt: null,
      refundRef: null,
      refundedAt: null,
    };
    const rental = {
      _id: rentalIdFor(charge.reservationId),
      reservationId: charge.reservationId,
      customerId: charge.customerId,
      storeId: charge.storeId,
      itemId: charge.itemId,
      quantity: charge.quantity,
      status: 'PENDING_PAYMENT' as RentalState,
      readyForPickup: false,
      readyAt: null,
      startedAt: null,
      returnedAt: null,
      cancelledAt: null,
      payment,
      outbox: {},
      outboxCount: 0,
      processedEvents: {},
      createdAt: now,
      updatedAt: now,
    };
    let inserted = false;
    try {
      await this.model.collection.insertOne(rental as never);
      inserted = true;
    } catch (err) {
      // The reservation already has its rental (and payment): answer that one.
      if (!isDuplicateKey(err)) throw err;
    }
    const doc = await this.findByReservation(charge.reservationId);
    if (!doc) throw new Error(`rental for reservation ${charge.reservationId} vanished after insert`);
    return { doc, inserted };
  }

  /** Records the provider's answer, if `attemptStartedAt` still holds the lease. */
  settleCharge(id: string, attemptStartedAt: Date, outcome: ChargeOutcome, now = new Date()): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, 'payment.status': 'PROCESSING', 'payment.attemptStartedAt': attemptStartedAt },
        {
          $set: {
            status: outcome.status === 'PAID' ? 'AWAITING_PICKUP' : 'CANCELLED',
            ...(outcome.status === 'PAID' ? {} : { cancelledAt: now }),
            'payment.status': outcome.status,
            'payment.reason': outcome.reason,
            'payment.providerRef': outcome.providerRef,
            'payment.settledAt': now,
          },
        },
        AFTER,
      )
      .lean<RentalDoc>()
      .exec();
  }

  /** Takes over a charge whose caller has gone quiet (lease = the `attemptStartedAt` seen). */
  claimStaleCharge(id: string, seenAttemptStartedAt: Date, now = new Date()): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, 'payment.status': 'PROCESSING', 'payment.attemptStartedAt': seenAttemptStartedAt },
        { $set: { 'payment.attemptStartedAt': now }, $inc: { 'payment.providerCalls': 1 } },
        AFTER,
      )
      .lean<RentalDoc>()
      .exec();
  }

  /** Marks a refund as wanted while the charge is still in flight; `null` when it is not in flight any more. */
  requestRefundWhileProcessing(id: string): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate({ _id: id, 'payment.status': 'PROCESSING' }, { $set: { 'payment.refundRequested': true } }, AFTER)
      .lean<RentalDoc>()
      .exec();
  }

  /**
   * Refund step 1, the arbiter against hand-over: `AWAITING_PICKUP` + `PAID` →
   * `CANCELLED`, taking the refund lease (`refundAttemptAt`): only the caller
   * that gets the document back calls the provider.
   */
  cancelForRefund(id: string, now = new Date()): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: 'AWAITING_PICKUP', 'payment.status': 'PAID' },
        { $set: { status: 'CANCELLED', cancelledAt: now, 'payment.refundAttemptAt': now } },
        AFTER,
      )
      .lean<RentalDoc>()
      .exec();
  }

  /** Takes over a refund whose caller has gone quiet (lease = the `refundAttemptAt` seen). */
  claimStaleRefund(id: string, seenRefundAttemptAt: Date | null, now = new Date()): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: 'CANCELLED', 'payment.status': 'PAID', 'payment.refundAttemptAt': seenRefundAttemptAt },
        { $set: { 'payment.refundAttemptAt': now } },
        AFTER,
      )
      .lean<RentalDoc>()
      .exec();
  }

  /** Refund step 2, after the provider refunded: `PAID` (rental `CANCELLED`) → `REFUNDED`. */
  markRefunded(id: string, refundRef: string, now = new Date()): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: 'CANCELLED', 'payment.status': 'PAID' },
        { $set: { 'payment.status': 'REFUNDED', 'payment.refundRef': refundRef, 'payment.refundedAt': now } },
        AFTER,
      )
      .lean<RentalDoc>()
      .exec();
  }

  /** Hand-over: `AWAITING_PICKUP` (ready, paid) → `ACTIVE`, with `RentalStarted` in the outbox. */
  start(id: string, event: DomainEvent, now = new Date()): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: 'AWAITING_PICKUP', readyForPickup: true, 'payment.status': 'PAID' },
        withOutbox({ $set: { status: 'ACTIVE', startedAt: now } }, [event]),
        AFTER,
      )
      .lean<RentalDoc>()
      .exec();
  }

  /** Return: `ACTIVE` → `RETURNED`, with `RentalReturned` in the outbox. */
  markReturned(id: string, event: DomainEvent, now = new Date()): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: 'ACTIVE' },
        withOutbox({ $set: { status: 'RETURNED', returnedAt: now } }, [event]),
        AFTER,
      )
      .lean<RentalDoc>()
      .exec();
  }

  /**
   * `StoreOrderPrepared`: marks the rental ready for pickup, once per event.
   * Returns whether this call changed the document.
   */
  async markReady(reservationId: string, eventId: string, now = new Date()): Promise<boolean> {
    const res = await this.model.updateOne(
      { _id: rentalIdFor(reservationId), ...notProcessed(eventId) },
      { $set: { readyForPickup: true, readyAt: now, ...markProcessed(eventId) } },
    );
    return res.modifiedCount === 1;
  }

  /** Remembers that `eventId` was handled for the reservation's rental; false when it already was. */
  async markEventProcessed(reservationId: string, eventId: string): Promise<boolean> {
    const res = await this.model.updateOne({ _id: rentalIdFor(reservationId), ...notProcessed(eventId) }, { $set: markProcessed(eventId) });
    return res.modifiedCount === 1;
  }
}
