/**
 * Data access of the items subgraph. Every invariant (stock never below zero,
 * one hold per reservation, one release per hold) is a single conditional
 * update on one document: no transactions, no positional operators, so it
 * runs on FerretDB 1.24 as on MongoDB.
 */
import type { FilterQuery } from 'mongoose';
import { notFound } from '@rental/errors';
import {
  holdConflict,
  insufficientStock,
  isItemId,
  type ItemFilter,
  type NewItem,
} from '../domain/index.js';
import type { HoldDoc, ItemDoc, ItemModel } from './item-model.js';

/** An item as the API shows it (no holds). */
export interface Item {
  id: string;
  storeId: string;
  name: string;
  description: string | null;
  category: string;
  dailyRate: number;
  stock: number;
}

/** A reservation's hold on an item's stock. */
export interface StockHold {
  reservationId: string;
  itemId: string;
  quantity: number;
  released: boolean;
  at: Date;
  releasedAt: Date | null;
  /** The item right after the operation, when the operation read it. */
  item?: Item;
}

export interface ItemPage {
  items: Item[];
  hasNextPage: boolean;
  /** Counts every item matching the filter (ignoring the cursor); called only when asked for. */
  count: () => Promise<number>;
}

/**
 * Fields read for the API: everything but the holds. (FerretDB 1.24 rejects a
 * projection on findAndModify, so the updates below read the whole document
 * and {@link toItem} drops the holds.)
 */
const PUBLIC_FIELDS = { holds: 0 } as const;
const RELEASE_ATTEMPTS = 5;

type LeanItem = Omit<ItemDoc, 'holds'> & { holds?: Record<string, HoldDoc> };

export function toItem(doc: Pick<LeanItem, '_id' | 'storeId' | 'name' | 'description' | 'category' | 'dailyRate' | 'stock'>): Item {
  return {
    id: doc._id.toHexString(),
    storeId: doc.storeId,
    name: doc.name,
    description: doc.description ?? null,
    category: doc.category,
    dailyRate: doc.dailyRate,
    stock: doc.stock,
  };
}

function toHold(reservationId: string, itemId: string, hold: HoldDoc, item?: Item): StockHold {
  return {
    reservationId,
    itemId,
    quantity: hold.quantity,
    released: hold.released === true,
    at: hold.at,
    releasedAt: hold.releasedAt ?? null,
    ...(item ? { item } : {}),
  };
}

export class ItemsData {

  constructor(private readonly model: ItemModel) {}

  /** Stores a validated new item. */
  async registerItem(input: NewItem): Promise<Item> {
    const doc = await this.model.create(input);
    return toItem(doc);
  }

  /** The item, or null when the id is unknown or malformed. */
  async findItem(id: string): Promise<Item | null> {
    if (!isItemId(id)) return null;
    const doc = await this.model.findById(id, PUBLIC_FIELDS).lean<LeanItem>();
    return doc ? toItem(doc) : null;
  }

  /** Items by id, in the order asked, null where unknown (for the DataLoader). */
  async findItems(ids: readonly string[]): Promise<Array<Item | null>> {
    const valid = [...new Set(ids.filter(isItemId).map((id) => id.toLowerCase()))];
    const docs = valid.length ? await this.model.find({ _id: { $in: valid } }, PUBLIC_FIELDS).lean<LeanItem[]>() : [];
    const byId = new Map(docs.map((d) => [d._id.toHexString(), toItem(d)]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }

  /** One page of items matching `filter`, in `_id` order, after the item `afterId`. */
  async listItems(filter: ItemFilter, first: number, afterId?: string): Promise<ItemPage> {
    const query: FilterQuery<ItemDoc> = {};
    if (filter.storeId !== undefined) query.storeId = filter.storeId;
    if (filter.category !== undefined) query.category = filter.category;
    if (filter.namePattern !== undefined) query.name = { $regex: filter.namePattern, $options: 'i' };
    if (filter.inStock === true) query.stock = { $gt: 0 };
    if (filter.inStock === false) query.stock = 0;
    const pageQuery: FilterQuery<ItemDoc> = afterId ? { ...query, _id: { $gt: afterId } } : query;
    const docs = await this.model
      .find(pageQuery, PUBLIC_FIELDS)
      .sort({ _id: 1 })
      .limit(first + 1)
      .lean<LeanItem[]>();
    return {
      items: docs.slice(0, first).map(toItem),
      hasNextPage: docs.length > first,
      count: () => this.model.countDocuments(query).exec(),
    };
  }

  /**
   * Takes `quantity` units for the reservation, once. One conditional update:
   * it matches only while the stock suffices and the reservation holds nothing
   * here yet. When it matches nothing, a read tells why.
   */
  async holdStock(reservationId: string, itemId: string, quantity: number): Promise<StockHold> {
    if (!isItemId(itemId)) throw notFound('item', itemId);
    return this.holdOnce(reservationId, itemId, quantity);
  }

  private async holdOnce(reservationId: string, itemId: string, quantity: number): Promise<StockHold> {
    const key = `holds.${reservationId}`;
    const hold: HoldDoc = { quantity, at: new Date(), released: false };
    const updated = await this.model
      .findOneAndUpdate(
        { _id: itemId, stock: { $gte: quantity }, [key]: { $exists: false } },
        { $inc: { stock: -quantity }, $set: { [key]: hold } },
        { new: true },
      )
      .lean<LeanItem>();
    if (updated) return toHold(reservationId, itemId, hold, toItem(updated));

    const current = await this.model.findById(itemId, { stock: 1, [key]: 1 }).lean<LeanItem>();
    if (!current) throw notFound('item', itemId);
    const existing = current.holds?.[reservationId];
    if (existing) {
      if (existing.quantity !== quantity) throw holdConflict(reservationId, itemId, existing.quantity, quantity);
      return toHold(reservationId, itemId, existing);
    }
    throw insufficientStock(itemId, quantity, current.stock);
  }

  /**
   * Gives a reservation's held units back, once. The quantity comes from the
   * hold itself, and the update matches only while that hold is unreleased,
   * so a repeated or concurrent release adds nothing. Null when the
   * reservation holds nothing on the item (or the item is unknown).
   */
  async releaseStock(reservationId: string, itemId: string): Promise<StockHold | null> {
    if (!isItemId(itemId)) return null;
    return this.releaseOnce(reservationId, itemId);
  }

  private async releaseOnce(reservationId: string, itemId: string): Promise<StockHold | null> {
    const key = `holds.${reservationId}`;
    for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
      const current = await this.model.findById(itemId, { [key]: 1 }).lean<LeanItem>();
      const hold = current?.holds?.[reservationId];
      if (!hold) return null;
      if (hold.released) return toHold(reservationId, itemId, hold);
      const releasedAt = new Date();
      const updated = await this.model
        .findOneAndUpdate(
          { _id: itemId, [`${key}.released`]: false, [`${key}.quantity`]: hold.quantity },
          { $inc: { stock: hold.quantity }, $set: { [`${key}.released`]: true, [`${key}.releasedAt`]: releasedAt } },
          { new: true },
        )
        .lean<LeanItem>();
      if (updated) {
        return toHold(reservationId, itemId, { ...hold, released: true, releasedAt }, toItem(updated));
      }
      // Another release won the race: the next read sees the hold released.
    }
    throw new Error(`release of hold ${reservationId} on item ${itemId} did not settle`);
  }
}
