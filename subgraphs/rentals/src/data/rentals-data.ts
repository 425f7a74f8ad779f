/**
 * Data access of the rentals subgraph. Documents are created by ONE insert
 * each, refused on the duplicate `_id` (one document per reservation), and
 * changed by ONE conditional single-document update from the expected state
 * (the FerretDB 1.24 subset: keyed `$set`/`$unset`, `$inc`, `$exists`); an
 * update returns the document after the change, or `null` when its condition
 * no longer held (someone else moved the state first). Events go into the
 * outbox in that same update (`withOutbox`), processed event ids too
 * (`markProcessed`).
 *
 * Concurrency rests on single-document atomicity (docs/ARCHITECTURE.md,
 * "MongoDB subset"): of concurrent conditional updates from one state exactly
 * one matches and the others change nothing, and of concurrent inserts with
 * one `_id` exactly one succeeds. MongoDB guarantees it; stock FerretDB 1.24
 * does not isolate updates, which is why the local build is patched
 * (`infra/local/atomicity.test.ts`) and why the race tests here fail on a
 * server without the guarantee. No lock is taken anywhere: nothing reads a
 * rental, decides, and writes back unconditionally.
 */
import { randomUUID } from 'node:crypto';
import { nameBasedId } from '@rental/db';
import { markProcessed, notProcessed, withOutbox, type DomainEvent } from '@rental/events';
import { rentalStateAfterCharge, type ChargeStatus, type PublicPaymentStatus } from '../domain/index.js';
import { isVoidMarker, type RentalDoc, type RentalModel, type StoredRental, type VoidMarkerDoc } from './rental-model.js';

/** What `chargePayment` records about the rental. */
export interface NewCharge {
  reservationId: string;
  customerId: string;
  storeId: string;
  itemId: string;
  quantity: number;
  amount: number;
  currency: string;
  provider: string;
}

/** The provider's final answer to a charge (or `FAILED` when it gave none in time), as recorded. */
export interface ChargeOutcome {
  status: ChargeStatus;
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

/**
 * The rental document of a charge the provider has answered, complete, as it
 * is inserted (and as `chargePayment` answers it without reading it back).
 */
export function chargedRental(charge: NewCharge, outcome: ChargeOutcome, now = new Date()): RentalDoc {
  const status = rentalStateAfterCharge(outcome.status);
  return {
    _id: rentalIdFor(charge.reservationId),
    reservationId: charge.reservationId,
    customerId: charge.customerId,
    storeId: charge.storeId,
    itemId: charge.itemId,
    quantity: charge.quantity,
    status,
    readyForPickup: false,
    readyAt: null,
    startedAt: null,
    returnedAt: null,
    cancelledAt: status === 'CANCELLED' ? now : null,
    payment: {
      id: randomUUID(),
      status: outcome.status,
      amount: charge.amount,
      currency: charge.currency,
      reason: outcome.reason,
      provider: charge.provider,
      providerRef: outcome.providerRef,
      settledAt: now,
      refundRef: null,
      refundedAt: null,
    },
    outbox: {},
    outboxCount: 0,
    processedEvents: {},
    createdAt: now,
    updatedAt: now,
  };
}

export class RentalsData {
  constructor(readonly model: RentalModel) {}

  findById(id: string): Promise<StoredRental | null> {
    return this.model.findById(id).lean<StoredRental>().exec();
  }

  findByReservation(reservationId: string): Promise<StoredRental | null> {
    return this.findById(rentalIdFor(reservationId));
  }

  /**
   * The rental as it is now, where a charge is known to be recorded (after
   * a refused insert or a conditional update that matched nothing):
   * documents are never deleted and a recorded charge never goes back to a
   * marker, so a missing document or a marker here is a bug, thrown.
   */
  async findRecorded(id: string): Promise<RentalDoc> {
    const doc = await this.findById(id);
    if (!doc || isVoidMarker(doc)) throw new Error(`rental ${id} should hold a recorded charge`);
    return doc;
  }

  /** For DataLoader: one entry per id, in order, `null` where there is none. */
  async findByIds(ids: readonly string[]): Promise<(StoredRental | null)[]> {
    const docs = await this.model.find({ _id: { $in: [...ids] } }).lean<StoredRental[]>().exec();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** For DataLoader: one entry per reservation id, in order, `null` where there is none. */
  async findByReservationIds(reservationIds: readonly string[]): Promise<(StoredRental | null)[]> {
    const docs = await this.model.find({ _id: { $in: reservationIds.map(rentalIdFor) } }).lean<StoredRental[]>().exec();
    const byReservation = new Map(docs.map((d) => [d.reservationId, d]));
    return reservationIds.map((id) => byReservation.get(id) ?? null);
  }

  /**
   * Records a charge: ONE insert of the complete document (see
   * {@link chargedRental}), through the native driver (mongoose would build
   * and validate a document first; the values come from validated input and
   * the tests check stored documents against the schema). False when the
   * reservation already has its document (a recorded charge or a void
   * marker): the insert failed on `_id` and changed nothing.
   */
  async insertRental(doc: RentalDoc): Promise<boolean> {
    return this.insertOnce(doc);
  }

  /**
   * A refund before any charge was recorded: inserts the `VOIDED` marker for
   * the reservation, so a late charge's insert fails on `_id`. False when the
   * reservation already has its document (its charge, or another refund's
   * marker, got there first).
   */
  async insertVoidMarker(reservationId: string, now = new Date()): Promise<boolean> {
    const marker: VoidMarkerDoc = {
      _id: rentalIdFor(reservationId),
      reservationId,
      status: 'CANCELLED',
      readyForPickup: false,
      cancelledAt: now,
      payment: { status: 'VOIDED' },
      outbox: {},
      outboxCount: 0,
      processedEvents: {},
      createdAt: now,
      updatedAt: now,
    };
    return this.insertOnce(marker);
  }

  private async insertOnce(doc: StoredRental): Promise<boolean> {
    try {
      await this.model.collection.insertOne(doc as never);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * A late charge on a void marker: records the charge it made (the rental
   * stays `CANCELLED`; the payment `REFUNDED` once given back, or the decline
   * or failure). Conditional on the marker: `null` when another late
   * duplicate recorded it first.
   */
  recordLateCharge(id: string, charged: RentalDoc, status: PublicPaymentStatus, refundRef: string | null, now = new Date()): Promise<RentalDoc | null> {
    const payment = { ...charged.payment, status, refundRef, refundedAt: refundRef ? now : null };
    return this.model
      .findOneAndUpdate(
        { _id: id, 'payment.status': 'VOIDED' },
        {
          $set: {
            customerId: charged.customerId,
            storeId: charged.storeId,
            itemId: charged.itemId,
            quantity: charged.quantity,
            payment,
          },
        },
        AFTER,
      )
      .lean<RentalDoc>()
      .exec();
  }

  /**
   * Refund step 1, the arbiter against hand-over: `AWAITING_PICKUP` + `PAID` →
   * `CANCELLED`. From here the money is owed back: any refund call that finds
   * `CANCELLED` + `PAID` gives it back (the provider's refund is idempotent).
   */
  cancelForRefund(id: string, now = new Date()): Promise<RentalDoc | null> {
    return this.model
      .findOneAndUpdate({ _id: id, status: 'AWAITING_PICKUP', 'payment.status': 'PAID' }, { $set: { status: 'CANCELLED', cancelledAt: now } }, AFTER)
      .lean<RentalDoc>()
      .exec();
  }

  /** Refund step 2, after the provider gave the money back: `PAID` (rental `CANCELLED`) → `REFUNDED`. */
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
      .findOneAndUpdate({ _id: id, status: 'ACTIVE' }, withOutbox({ $set: { status: 'RETURNED', returnedAt: now } }, [event]), AFTER)
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
