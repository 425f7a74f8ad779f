/**
 * The item document. One collection, `items`, in the items subgraph's own
 * database.
 *
 * ACTIVE stock holds live on the item itself as a map keyed by reservation id
 * (`holds.<reservationId>`), so taking stock and recording the hold is one
 * conditional single-document update (FerretDB 1.24 has neither transactions
 * nor the positional `$` operator). A released hold leaves the item (its units
 * go back in the same update) and is remembered in `stock_releases` instead
 * (see {@link StockReleaseDoc}), so the item document stays as small as its
 * active holds: at most one entry per unit of stock. (Measured on FerretDB:
 * with 2,000 released holds left on the item, 200 concurrent holds took 17.8 s
 * instead of 1.5 s, since every update rewrites the whole document.)
 * `holds` is never returned by the API.
 */
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface HoldDoc {
  quantity: number;
  at: Date;
  released: boolean;
  releasedAt?: Date;
}

export interface ItemDoc {
  _id: Types.ObjectId;
  storeId: string;
  name: string;
  description: string | null;
  category: string;
  dailyRate: number;
  stock: number;
  holds?: Map<string, HoldDoc> | Record<string, HoldDoc>;
  createdAt: Date;
  updatedAt: Date;
}

const holdSchema = new Schema<HoldDoc>(
  {
    quantity: { type: Number, required: true, min: 1 },
    at: { type: Date, required: true },
    released: { type: Boolean, required: true, default: false },
    releasedAt: { type: Date },
  },
  { _id: false },
);

export const itemSchema = new Schema<ItemDoc>(
  {
    storeId: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: null },
    category: { type: String, required: true },
    dailyRate: { type: Number, required: true, min: 1 },
    stock: { type: Number, required: true, min: 0 },
    holds: { type: Map, of: holdSchema, default: undefined },
  },
  {
    collection: 'items',
    timestamps: true,
    // Unknown paths are dropped on write, and an unknown path in a query is an error, not a silent no-op.
    strict: true,
    strictQuery: 'throw',
    versionKey: false,
  },
);

// Listing is always in _id order, filtered by store and/or category.
itemSchema.index({ storeId: 1, _id: 1 });
itemSchema.index({ category: 1, _id: 1 });

export type ItemModel = Model<ItemDoc>;

/**
 * A released hold, kept so that a retried hold or release for the same
 * reservation changes nothing after the hold has left the item. `_id` is
 * `<itemId>:<reservationId>`. `quantity` 0: the release came before any hold
 * (a hold that lands later undoes itself).
 */
export interface StockReleaseDoc {
  _id: string;
  itemId: string;
  reservationId: string;
  quantity: number;
  at: Date;
  releasedAt: Date;
}

const stockReleaseSchema = new Schema<StockReleaseDoc>(
  {
    _id: { type: String, required: true },
    itemId: { type: String, required: true },
    reservationId: { type: String, required: true },
    quantity: { type: Number, required: true, min: 0 },
    at: { type: Date, required: true },
    releasedAt: { type: Date, required: true },
  },
  { collection: 'stock_releases', versionKey: false, strict: true },
);

export type StockReleaseModel = Model<StockReleaseDoc>;

/** The released-holds model on the given connection. */
export function stockReleaseModel(conn: Connection): StockReleaseModel {
  return (conn.models.StockRelease as StockReleaseModel | undefined) ?? conn.model<StockReleaseDoc>('StockRelease', stockReleaseSchema);
}

/** The items model on the given connection. */
export function itemModel(conn: Connection): ItemModel {
  return (conn.models.Item as ItemModel | undefined) ?? conn.model<ItemDoc>('Item', itemSchema);
}
