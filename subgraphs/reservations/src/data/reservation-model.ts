/**
 * The reservation write model: one document per reservation in the
 * reservations subgraph's own database, collection `reservations`.
 *
 * - `_id` is a UUID string made by the saga before it calls anyone, so every
 *   call to items and rentals is keyed (and idempotent) by it.
 * - `history` is append-only (`$push`), one entry per status change.
 * - `outbox` / `outboxCount` (from `@rental/events`) hold the events of a state
 *   change, written in the same update as the change; the relay publishes them.
 * - `processedEvents` remembers which consumed events already changed the document.
 * - `settlingSince` is set by the sweeper when it takes over a stale PENDING
 *   reservation; the saga's own PENDING → … updates require it absent, so the
 *   request path and the sweeper cannot both settle one reservation.
 *
 * Indexes: `{status, createdAt}` (the sweeper's stale-PENDING query) and
 * `outboxCount` (declared by `outboxFields`, the relay's sweep), nothing
 * more: every index is one more write on every change of every reservation.
 * A customer's list is read from the customer view, not from here.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { outboxFields, processedEventsFields } from '@rental/events';
import { RESERVATION_STATUSES, type ReservationStatus } from '../domain/index.js';

export interface HistoryEntry {
  status: ReservationStatus;
  at: Date;
  reason?: string | null;
}

export interface ReservationDoc {
  _id: string;
  customerId: string;
  itemId: string;
  /** The item's name when the reservation was made (events carry it). */
  itemName: string;
  storeId: string;
  quantity: number;
  /** `YYYY-MM-DD`. */
  startDate: string;
  /** `YYYY-MM-DD`. */
  endDate: string;
  days: number;
  /** The rate items answered when the stock was taken; null before. */
  dailyRate: number | null;
  /** quantity × dailyRate × days; null until the price is known. */
  totalPrice: number | null;
  status: ReservationStatus;
  history: HistoryEntry[];
  /** The `x-request-id` of the creating request, for log correlation. */
  requestId: string | null;
  settlingSince: Date | null;
  outbox?: Record<string, unknown>;
  outboxCount?: number;
  processedEvents?: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

const historySchema = new Schema<HistoryEntry>(
  {
    status: { type: String, enum: RESERVATION_STATUSES, required: true },
    at: { type: Date, required: true },
    reason: { type: String, default: null },
  },
  { _id: false },
);

export const reservationSchema = new Schema<ReservationDoc>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    itemId: { type: String, required: true },
    itemName: { type: String, required: true },
    storeId: { type: String, required: true },
    quantity: { type: Number, required: true, min: 1 },
    startDate: { type: String, required: true },
    endDate: { type: String, required: true },
    days: { type: Number, required: true, min: 1 },
    dailyRate: { type: Number, default: null },
    totalPrice: { type: Number, default: null },
    status: { type: String, enum: RESERVATION_STATUSES, required: true },
    history: { type: [historySchema], default: [] },
    requestId: { type: String, default: null },
    settlingSince: { type: Date, default: null },
    ...outboxFields,
    ...processedEventsFields,
  },
  {
    collection: 'reservations',
    timestamps: true,
    strict: true,
    versionKey: false,
    minimize: false,
  },
);

reservationSchema.index({ status: 1, createdAt: 1 });

export type ReservationModel = Model<ReservationDoc>;

/** The reservations model on the given connection. */
export function reservationModel(conn: Connection): ReservationModel {
  return (conn.models.Reservation as ReservationModel | undefined) ?? conn.model<ReservationDoc>('Reservation', reservationSchema);
}
