/**
 * The rental document: one per reservation, holding the rental and its
 * payment together. Collection `rentals` in the rentals subgraph's database;
 * `_id` = `rentalIdFor(reservationId)`, so the reservation id alone finds it
 * and a second document for one reservation is refused on `_id`.
 *
 * Why one document for both: every rule that couples them is then ONE
 * single-document write, atomic on MongoDB and on our patched FerretDB (no
 * multi-document transactions are needed, nor any lock):
 * - a charge is recorded once per reservation: the document is inserted with
 *   the provider's final answer, and every later insert fails on `_id`;
 * - a refund before any charge inserts a `VOIDED` marker under the same `_id`,
 *   so a late charge's insert fails and the late charge gives the money back;
 * - hand-over versus cancel: `startRental` moves `AWAITING_PICKUP → ACTIVE`
 *   and a refund moves `AWAITING_PICKUP → CANCELLED`, each conditional on the
 *   status, so exactly one of them wins;
 * - events: `RentalStarted`/`RentalReturned` are written to `outbox.<eventId>`
 *   in the same update as the state change (see `@rental/events`);
 * - consumed events are remembered in `processedEvents.<eventId>`.
 *
 * The charge's insert goes through the native driver (`rentals-data.ts`), so
 * mongoose does not validate it on the hot path; the schema below is still
 * the contract of what is stored, and the tests validate stored documents of
 * every kind against it.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { outboxFields, processedEventsFields, type OutboxState } from '@rental/events';
import { PAYMENT_STATES, RENTAL_STATES, type PublicPaymentStatus, type RentalState } from '../domain/index.js';

/** A recorded payment: the provider's answer to the reservation's charge, and its refund. */
export interface PaymentDoc {
  /** Payment id (UUID), shown as `Payment.id`. */
  id: string;
  status: PublicPaymentStatus;
  amount: number;
  currency: string;
  /** Why it was declined or failed. */
  reason: string | null;
  /** The provider's name (`sandbox`). */
  provider: string;
  /** The provider's charge id, when it answered. */
  providerRef: string | null;
  /** When the provider answered (or was given up on). */
  settledAt: Date;
  refundRef: string | null;
  refundedAt: Date | null;
}

/** A rental with its recorded payment: what the API shows. */
export interface RentalDoc extends OutboxState {
  /** Rental id: `rentalIdFor(reservationId)`. */
  _id: string;
  reservationId: string;
  customerId: string;
  storeId: string;
  itemId: string;
  quantity: number;
  status: RentalState;
  /** Set from `StoreOrderPrepared`: the store has the items ready. */
  readyForPickup: boolean;
  readyAt: Date | null;
  startedAt: Date | null;
  returnedAt: Date | null;
  cancelledAt: Date | null;
  payment: PaymentDoc;
  processedEvents?: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A refund that came before any charge was recorded: no rental, no payment,
 * only the reservation id under the rental's `_id`, cancelled. It exists so
 * that a late charge's insert fails and that charge gives its money back; the
 * API never shows it (a refund answers `null`, reads answer `null`).
 */
export interface VoidMarkerDoc extends OutboxState {
  _id: string;
  reservationId: string;
  status: 'CANCELLED';
  readyForPickup: boolean;
  cancelledAt: Date;
  payment: { status: 'VOIDED' };
  processedEvents?: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** Whatever a rental document holds: a rental with its payment, or a void marker. */
export type StoredRental = RentalDoc | VoidMarkerDoc;

/** True for a refund-before-charge marker (no charge recorded). */
export function isVoidMarker(doc: StoredRental): doc is VoidMarkerDoc {
  return doc.payment.status === 'VOIDED';
}

/** Validators' view: the fields of a charged rental are required, a void marker has none of them. */
function chargeRecorded(this: { payment?: { status?: string } }): boolean {
  return this.payment?.status !== 'VOIDED';
}
function paymentRecorded(this: { status?: string }): boolean {
  return this.status !== 'VOIDED';
}

const paymentSchema = new Schema<PaymentDoc>(
  {
    id: { type: String, required: paymentRecorded },
    status: { type: String, enum: PAYMENT_STATES, required: true },
    amount: { type: Number, required: paymentRecorded, min: 1 },
    currency: { type: String, required: paymentRecorded },
    reason: { type: String },
    provider: { type: String, required: paymentRecorded },
    providerRef: { type: String },
    settledAt: { type: Date, required: paymentRecorded },
    refundRef: { type: String },
    refundedAt: { type: Date },
  },
  { _id: false },
);

export const rentalSchema = new Schema<RentalDoc>(
  {
    _id: { type: String, required: true },
    reservationId: { type: String, required: true },
    customerId: { type: String, required: chargeRecorded },
    storeId: { type: String, required: chargeRecorded },
    itemId: { type: String, required: chargeRecorded },
    quantity: { type: Number, required: chargeRecorded, min: 1 },
    status: { type: String, enum: RENTAL_STATES, required: true },
    readyForPickup: { type: Boolean, default: false },
    readyAt: { type: Date, default: null },
    startedAt: { type: Date, default: null },
    returnedAt: { type: Date, default: null },
    cancelledAt: { type: Date, default: null },
    payment: { type: paymentSchema, required: true },
    ...outboxFields,
    ...processedEventsFields,
  },
  {
    collection: 'rentals',
    timestamps: true,
    strict: true,
    strictQuery: 'throw',
    versionKey: false,
    minimize: false,
  },
);
// No index on `reservationId`: the `_id` is derived from it, so the `_id`
// index already refuses a second document per reservation and serves every
// lookup by reservation.

export type RentalModel = Model<RentalDoc>;

/** The rentals model on the given connection. */
export function rentalModel(conn: Connection): RentalModel {
  return (conn.models.Rental as RentalModel | undefined) ?? conn.model<RentalDoc>('Rental', rentalSchema);
}
