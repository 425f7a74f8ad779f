/**
 * The stores subgraph's documents, in its own database.
 *
 * `stores`: one document per store, `_id` = the store id (chosen by the admin
 * or ObjectId hex).
 *
 * `store_orders`: one document per reservation, `_id` = `storeOrderIdFor(reservationId)`
 * (deterministic, so a repeated `ReservationConfirmed` cannot create a second
 * order; no other index is needed for that, and each costs a write). It carries:
 * - `history`: every status change, appended with `$push`;
 * - the outbox (`outbox.<eventId>`, `outboxCount`) of the events it produces;
 * - `processedEvents.<eventId>`: the events that already changed it.
 *
 * A *tombstone* is a store order document written when `ReservationCancelled`
 * arrives before `ReservationConfirmed` (events are not ordered): status
 * `CANCELLED`, `tombstone: true`, and only the ids the cancel event carries.
 * The later confirm fills in the details and clears the flag but keeps
 * `CANCELLED`, so a cancelled reservation never gets a live order. Tombstones
 * are never shown by the API (they have no store, and every read skips them),
 * which is why the detail fields are not `required` at the schema level; every
 * non-tombstone document has them all.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { outboxFields, processedEventsFields, type OutboxState } from '@rental/events';
import { STORE_ORDER_STATUSES, type StoreOrderStatus } from '../domain/index.js';

export interface StoreDoc {
  _id: string;
  name: string;
  city: string;
  address: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface StoreOrderChangeDoc {
  status: StoreOrderStatus;
  at: Date;
  reason?: string | null;
}

export interface StoreOrderDoc extends OutboxState {
  _id: string;
  reservationId: string;
  storeId: string;
  status: StoreOrderStatus;
  itemId: string;
  itemName: string;
  quantity: number;
  startDate: string;
  endDate: string;
  customerId: string;
  totalPrice?: number;
  preparedAt?: Date | null;
  handedOverAt?: Date | null;
  cancelledAt?: Date | null;
  tombstone?: boolean;
  history: StoreOrderChangeDoc[];
  processedEvents?: Record<string, boolean>;
  createdAt: Date;
  updatedAt: Date;
}

const storeSchema = new Schema<StoreDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    city: { type: String, required: true },
    address: { type: String, default: null },
  },
  { collection: 'stores', timestamps: true, strict: true, strictQuery: 'throw', versionKey: false },
);
storeSchema.index({ name: 1 });

const changeSchema = new Schema<StoreOrderChangeDoc>(
  {
    status: { type: String, enum: STORE_ORDER_STATUSES, required: true },
    at: { type: Date, required: true },
    reason: { type: String, default: null },
  },
  { _id: false },
);

const storeOrderSchema = new Schema<StoreOrderDoc>(
  {
    _id: { type: String, required: true },
    reservationId: { type: String, required: true },
    storeId: { type: String },
    status: { type: String, enum: STORE_ORDER_STATUSES, required: true },
    itemId: { type: String },
    itemName: { type: String },
    quantity: { type: Number },
    startDate: { type: String },
    endDate: { type: String },
    customerId: { type: String },
    totalPrice: { type: Number },
    preparedAt: { type: Date, default: null },
    handedOverAt: { type: Date, default: null },
    cancelledAt: { type: Date, default: null },
    tombstone: { type: Boolean },
    history: { type: [changeSchema], default: [] },
    ...outboxFields,
    ...processedEventsFields,
  },
  { collection: 'store_orders', timestamps: true, strict: true, strictQuery: 'throw', versionKey: false, minimize: false },
);
// storeOrders(storeId, status): newest first, `_id` breaking ties, so pages follow one total order.
storeOrderSchema.index({ storeId: 1, createdAt: -1, _id: -1 });

export type StoreModel = Model<StoreDoc>;
export type StoreOrderModel = Model<StoreOrderDoc>;

export interface StoresModels {
  Store: StoreModel;
  StoreOrder: StoreOrderModel;
}

/** The models on the given connection (created once per connection). */
export function storesModels(conn: Connection): StoresModels {
  return {
    Store: (conn.models.Store as StoreModel | undefined) ?? conn.model<StoreDoc>('Store', storeSchema),
    StoreOrder: (conn.models.StoreOrder as StoreOrderModel | undefined) ?? conn.model<StoreOrderDoc>('StoreOrder', storeOrderSchema),
  };
}

/** Creates the indexes (autoIndex does it in the background; tests and start-up want them now). */
export async function ensureIndexes(models: StoresModels): Promise<void> {
  await Promise.all([models.Store.init(), models.StoreOrder.init()]);
}

/** True for a MongoDB duplicate-key error. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
