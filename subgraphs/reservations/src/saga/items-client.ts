/**
 * The items subgraph as the saga uses it: read an item, take stock for a
 * reservation, give it back (docs/ARCHITECTURE.md, "Internal API").
 * holdStock and releaseStock are idempotent per reservation id on the items side.
 *
 * What the saga reads of an item before the PENDING insert (its name and
 * store: facts an item keeps for life, as the API has no way to change them)
 * is cached per process ({@link ItemFacts}), so a rush on one item asks items
 * for it once, not once per reservation. Stock and price are never taken
 * from the cache: `holdStock` answers them, from the database, in the same
 * update that takes the stock.
 */
import { LRUCache } from 'lru-cache';
import { DomainError } from '@rental/errors';
import type {
  ReservationsGetItemQuery,
  ReservationsGetItemQueryVariables,
  ReservationsHoldStockMutation,
  ReservationsHoldStockMutationVariables,
  ReservationsReleaseStockMutation,
  ReservationsReleaseStockMutationVariables,
} from '../generated/items.js';
import type { CallContext, DependencyClient } from './dependency.js';

/** What the saga reads of an item (types generated from the items schema: `npm run codegen`). */
export type ItemInfo = NonNullable<ReservationsGetItemQuery['item']>;
export type StockHold = ReservationsHoldStockMutation['holdStock'];

const GET_ITEM = /* GraphQL */ `query ReservationsGetItem($id: ID!) { item(id: $id) { id name dailyRate storeId stock } }`;
const HOLD = /* GraphQL */ `mutation ReservationsHoldStock($reservationId: ID!, $itemId: ID!, $quantity: Int!) {
  holdStock(reservationId: $reservationId, itemId: $itemId, quantity: $quantity) {
    reservationId itemId quantity released item { id name dailyRate storeId stock }
  }
}`;
const RELEASE = /* GraphQL */ `mutation ReservationsReleaseStock($reservationId: ID!, $itemId: ID!) {
  releaseStock(reservationId: $reservationId, itemId: $itemId) {
    reservationId itemId quantity released item { id name dailyRate storeId stock }
  }
}`;

/** What a reservation takes from its item before it asks for stock: facts that never change. */
export type ItemFacts = Pick<ItemInfo, 'id' | 'name' | 'storeId'>;

/** How many items' facts a process keeps, and for how long (a bound, not a freshness rule: they do not change). */
const ITEM_FACTS_MAX = 10_000;
const ITEM_FACTS_TTL_MS = 10 * 60_000;

/** How long after a hold found an item short of stock the saga reads its stock first. */
export const SOLD_OUT_RECHECK_MS = 2_000;

export class ItemsClient {
  private readonly facts = new LRUCache<string, ItemFacts>({ max: ITEM_FACTS_MAX, ttl: ITEM_FACTS_TTL_MS });
  private readonly short = new LRUCache<string, true>({ max: ITEM_FACTS_MAX, ttl: SOLD_OUT_RECHECK_MS });

  constructor(readonly dependency: DependencyClient) {}

  /** The item, or null when there is none with that id. */
  async getItem(id: string, ctx?: CallContext): Promise<ItemInfo | null> {
    const variables: ReservationsGetItemQueryVariables = { id };
    const data = await this.dependency.request<ReservationsGetItemQuery>('ReservationsGetItem', GET_ITEM, variables, ctx);
    if (data.item) this.facts.set(id, { id: data.item.id, name: data.item.name, storeId: data.item.storeId });
    return data.item;
  }

  /**
   * The item's name and store: from this process's cache, else read from
   * items (and cached). Null when there is no such item (never cached: it may
   * be registered later).
   */
  async getItemFacts(id: string, ctx?: CallContext): Promise<ItemFacts | null> {
    return this.facts.get(id) ?? (await this.getItem(id, ctx));
  }

  /** True while a hold for this item lately found it short of stock (see the module comment). */
  wasShort(itemId: string): boolean {
    return this.short.has(itemId);
  }

  /** Takes `quantity` units for the reservation (once); INSUFFICIENT_STOCK / NOT_FOUND as DomainError. */
  async holdStock(reservationId: string, itemId: string, quantity: number, ctx?: CallContext): Promise<StockHold> {
    const variables: ReservationsHoldStockMutationVariables = { reservationId, itemId, quantity };
    try {
      const data = await this.dependency.request<ReservationsHoldStockMutation>('ReservationsHoldStock', HOLD, variables, ctx);
      this.short.delete(itemId);
      return data.holdStock;
    } catch (err) {
      if (err instanceof DomainError && err.code === 'INSUFFICIENT_STOCK') this.short.set(itemId, true);
      throw err;
    }
  }

  /** Gives the reservation's stock back (once); null when it held none. */
  async releaseStock(reservationId: string, itemId: string, ctx?: CallContext): Promise<StockHold | null> {
    const variables: ReservationsReleaseStockMutationVariables = { reservationId, itemId };
    const data = await this.dependency.request<ReservationsReleaseStockMutation>('ReservationsReleaseStock', RELEASE, variables, ctx);
    return data.releaseStock;
  }
}
