/**
 * The rental document: one per reservation, holding the rental and its
 * payment together. Collection `rentals` in the rentals subgraph's database.
 *
 * Why one document for both: every rule that couples them is then ONE
 * conditional single-document update, atomic on MongoDB and on our patched
 * FerretDB (no multi-document transactions are needed, nor any lock):
 * - the charge happens once per reservation: the document is inserted first
 *   with `payment.status: PROCESSING` (unique index on `reservationId`), and
 *   only the inserter calls the provider;
 * - hand-over versus cancel: `startRental` moves `AWAITING_PICKUP → ACTIVE`
 *   and a refund moves `AWAITING_PICKUP → CANCELLED`, each conditional on the
 *   status, so exactly one of them wins;
 * - events: `RentalStarted`/`RentalReturned` are written to `outbox.<eventId>`
 *   in the same update as the state change (see `@rental/events`);
 * - consumed events are remembered in `processedEvents.<eventId>`.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { outboxFields, processedEventsFields, type OutboxState } from '@rental/events';
import { PAYMENT_STATES, RENTAL_STATES, type PaymentState, type RentalState } from '../domain/index.js';

export interface PaymentDoc {
  /** Payment id (UUID), shown as `Payment.id`. */
  id: string;
  status: PaymentState;
  amount: number;
  currency: string;
  /** Why it was declined or failed. */
  reason: string | null;
  /** The provider's name (`sandbox`). */
  provider: string;
  /** The card token; kept so a charge interrupted by a crash can be taken over (sandbox tokens are not secret). */
  token: string;
  /** The provider's charge id, once it answered. */
  providerRef: string | null;
  /** Times the provider's `charge` was called for this payment (1 unless a stale charge was taken over). */
  providerCalls: number;
  /** When the current provider call began; the lease of the caller running it. */
  attemptStartedAt: Date;
  /** A refund was asked for while the charge was still PROCESSING: whoever settles it refunds at once. */
  refundRequested: boolean;
  settledAt: Date | null;
  /** When the current provider refund call began; the lease of the caller running it. */
  refundAttemptAt: Date | null;
  refundRef: string | null;
  refundedAt: Date | null;
}

export interface RentalDoc extends OutboxState {
  /** Rental id (UUID). */
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

const paymentSchema = new Schema<PaymentDoc>(
  {
    id: { type: String, required: true },
    status: { type: String, enum: PAYMENT_STATES, required: true },
    amount: { type: Number, required: true },
    currency: { type: String, required: true },
    reason: { type: String, default: null },
    provider: { type: String, required: true },
    token: { type: String, required: true },
    providerRef: { type: String, default: null },
    providerCalls: { type: Number, default: 0 },
    attemptStartedAt: { type: Date, required: true },
    refundRequested: { type: Boolean, default: false },
    settledAt: { type: Date, default: null },
    refundAttemptAt: { type: Date, default: null },
    refundRef: { type: String, default: null },
    refundedAt: { type: Date, default: null },
  },
  { _id: false },
);

export const rentalSchema = new Schema<RentalDoc>(
  {
    _id: { type: String, required: true },
    reservationId: { type: String, required: true },
    customerId: { type: String, required: true },
    storeId: { type: String, required: true },
    itemId: { type: String, required: true },
    quantity: { type: Number, required: true, min: 1 },
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

// One rental (and one payment) per reservation: the unique index is what makes
// the charge's insert-first lock hold even on two replicas.
rentalSchema.index({ reservationId: 1 }, { unique: true });

export type RentalModel = Model<RentalDoc>;

/** The rentals model on the given connection. */
export function rentalModel(conn: Connection): RentalModel {
  return (conn.models.Rental as RentalModel | undefined) ?? conn.model<RentalDoc>('Rental', rentalSchema);
}
