/**
 * Data access of the items subgraph. Every invariant (stock never below zero,
 * one hold per reservation, one release per hold) is a single conditional
 * update on one document: no transactions, no positional operators, so it
 * runs on FerretDB 1.24 as on MongoDB.
 *
 * Holds and releases (protocol):
 * - hold: `{_id, stock >= q, holds.<rid> absent}` → `$inc stock -q`,
 *   `$set holds.<rid>`. Then, if a release tombstone exists for the
 *   reservation, the hold was a late retry of an already released one: undo it
 *   (same conditional update as a release) and answer the released hold.
 * - release: write the tombstone `stock_releases/<item>:<rid>` FIRST, whether
 *   or not the reservation holds anything yet (a hold its caller gave up on
 *   may still be on its way: a saga that lost its connection to us releases
 *   at once), then `{_id, holds.<rid>.quantity: q}` → `$unset holds.<rid>`,
 *   `$inc stock +q`. When nothing was held before the tombstone, the item is
 *   read once more after it: a hold that landed in between is taken off.
 * Because the tombstone is written before the hold leaves the item, any hold
 * that succeeds after that point sees the tombstone and undoes itself; a hold
 * that succeeded before it is on the item when the release reads it; a
 * repeated hold finds the existing entry or the tombstone and changes
 * nothing. A repeated release finds no entry and answers from the tombstone.
 * Both sides' take-off is the same conditional update, so only one of them
 * gives the units back. A release is final: a reservation never holds again
 * after it (db-faults.test.ts caught a hold that landed after a release that
 * had found nothing, when the release left no tombstone).
 */
import { Types, type FilterQuery } from 'mongoose';
import { notFound } from '@rental/errors';
import { pageOf, type Page } from '@rental/subgraph-server/pagination';
import {
  holdConflict,
  insufficientStock,
  isItemId,
  type ItemFilter,
  type NewItem,
} from '../domain/index.js';
import { stockReleaseModel, type HoldDoc, type ItemDoc, type ItemModel, type StockReleaseDoc, type StockReleaseModel } from './item-model.js';

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

/** A page of the catalog. */
export interface ItemPage extends Page<Item> {
  /** Counts every item matching the filter (ignoring the cursor); called only when asked for. */
  count: () => Promise<number>;
}

/**
 * Fields read for the API: everything but the holds. (FerretDB 1.24 rejects a
 * projection on findAndModify, so the updates below read the whole document
 * and {@link toItem} drops the holds.)
 */
const PUBLIC_FIELDS = { holds: 0 } as const;

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

  constructor(
    private readonly model: ItemModel,
    private readonly releases: StockReleaseModel = stockReleaseModel(model.db),
  ) {}

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
    const page = pageOf(docs, first);
    return {
      rows: page.rows.map(toItem),
      hasNextPage: page.hasNextPage,
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
    const at = new Date();
    const hold: HoldDoc = { quantity, at, released: false };
    // The hot path of every reservation: straight to the driver (mongoose's casting adds nothing to these values).
    const updated = (await this.model.collection.findOneAndUpdate(
      { _id: new Types.ObjectId(itemId), stock: { $gte: quantity }, [key]: { $exists: false } },
      { $inc: { stock: -quantity }, $set: { [key]: hold, updatedAt: at } },
      { returnDocument: 'after' },
    )) as LeanItem | null;
    if (updated) {
      const tombstone = await this.findRelease(reservationId, itemId);
      if (!tombstone) return toHold(reservationId, itemId, hold, toItem(updated));
      // A late retry of a hold that was already released: give the units back.
      await this.takeOffItem(reservationId, itemId, quantity);
      return fromRelease(tombstone, undefined, quantity);
    }

    const current = await this.model.findById(itemId, { stock: 1, [key]: 1 }).lean<LeanItem>();
    if (!current) throw notFound('item', itemId);
    const active = current.holds?.[reservationId];
    const released = active ? null : await this.findRelease(reservationId, itemId);
    // A tombstone of quantity 0 was left by a release that came before any hold: any quantity fits it.
    const existing = active ?? (released && released.quantity > 0 ? released : null);
    if (existing && existing.quantity !== quantity) throw holdConflict(reservationId, itemId, existing.quantity, quantity);
    if (active) return toHold(reservationId, itemId, active);
    if (released) return fromRelease(released, undefined, quantity);
    throw insufficientStock(itemId, quantity, current.stock);
  }

  /**
   * Gives a reservation's held units back, once, and ends its holding on the
   * item for good. The quantity comes from the hold itself; the tombstone is
   * written before the hold leaves the item (see the protocol above), so a
   * repeated, concurrent or late operation adds nothing. Null when the
   * reservation held nothing on the item (or there is no such item).
   */
  async releaseStock(reservationId: string, itemId: string): Promise<StockHold | null> {
    if (!isItemId(itemId)) return null;
    const held = await this.holdOf(reservationId, itemId);
    if (held === undefined) return null;
    const tombstone = await this.recordRelease(reservationId, itemId, held);
    const hold = held ?? (await this.holdOf(reservationId, itemId));
    if (!hold) return tombstone.quantity > 0 ? fromRelease(tombstone) : null;
    const updated = await this.takeOffItem(reservationId, itemId, hold.quantity);
    return fromRelease(tombstone, updated ? toItem(updated) : undefined, hold.quantity);
  }

  /** The reservation's hold on the item: null when it holds nothing there, undefined when there is no such item. */
  private async holdOf(reservationId: string, itemId: string): Promise<HoldDoc | null | undefined> {
    const current = await this.model.findById(itemId, { [`holds.${reservationId}`]: 1 }).lean<LeanItem>();
    return current ? (current.holds?.[reservationId] ?? null) : undefined;
  }

  /** Removes the hold from the item and puts its units back, if it is still there. */
  private takeOffItem(reservationId: string, itemId: string, quantity: number): Promise<LeanItem | null> {
    const key = `holds.${reservationId}`;
    return this.model
      .findOneAndUpdate({ _id: itemId, [`${key}.quantity`]: quantity }, { $inc: { stock: quantity }, $unset: { [key]: '' } }, { new: true })
      .lean<LeanItem>()
      .exec();
  }

  /**
   * The release tombstone, read on every hold: straight to the driver, as the
   * hold itself. (A mongoose query captures a stack trace for every exec, and
   * formatting it through source maps was 3% of items' CPU on this path.)
   */
  private findRelease(reservationId: string, itemId: string): Promise<StockReleaseDoc | null> {
    return this.releases.collection.findOne<StockReleaseDoc>({ _id: `${itemId}:${reservationId}` as never });
  }

  /** Writes the tombstone once (quantity 0 when nothing was held yet); a concurrent release finds the first one. */
  private async recordRelease(reservationId: string, itemId: string, hold: HoldDoc | null): Promise<StockReleaseDoc> {
    const releasedAt = new Date();
    const doc: StockReleaseDoc = {
      _id: `${itemId}:${reservationId}`,
      itemId,
      reservationId,
      quantity: hold?.quantity ?? 0,
      at: hold?.at ?? releasedAt,
      releasedAt,
    };
    try {
      await this.releases.create(doc);
      return doc;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      return (await this.findRelease(reservationId, itemId)) ?? doc;
    }
  }
}

/** A released hold; `quantity` is the hold's, or the asked one when the release came before any hold (tombstone quantity 0). */
function fromRelease(doc: StockReleaseDoc, item?: Item, quantity = doc.quantity): StockHold {
  return {
    reservationId: doc.reservationId,
    itemId: doc.itemId,
    quantity,
    released: true,
    at: doc.at,
    releasedAt: doc.releasedAt,
    ...(item ? { item } : {}),
  };
}
