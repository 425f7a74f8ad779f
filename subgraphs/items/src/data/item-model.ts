/**
 * The item document. One collection, `items`, in the items subgraph's own
 * database.
 *
 * Stock holds live on the item itself as a map keyed by reservation id
 * (`holds.<reservationId>`), so taking stock and recording the hold is one
 * conditional single-document update (FerretDB 1.24 has neither transactions
 * nor the positional `$` operator). The document therefore grows by one small
 * entry per reservation ever made for the item; that is accepted for now
 * (a busy item gains roughly 60 bytes per reservation, far from the 16 MB
 * document limit for a rental catalogue). Archiving released holds would be the
 * next step if it ever matters. `holds` is never returned by the API.
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

/** The items model on the given connection. */
export function itemModel(conn: Connection): ItemModel {
  return (conn.models.Item as ItemModel | undefined) ?? conn.model<ItemDoc>('Item', itemSchema);
}
