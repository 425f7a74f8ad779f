/**
 * The items subgraph as the saga uses it: read an item, take stock for a
 * reservation, give it back (docs/ARCHITECTURE.md, "Internal API").
 * holdStock and releaseStock are idempotent per reservation id on the items side.
 */
import type { CallContext, DependencyClient } from './dependency.js';

export interface ItemInfo {
  id: string;
  name: string;
  dailyRate: number;
  storeId: string;
  stock: number;
}

export interface StockHold {
  reservationId: string;
  itemId: string;
  quantity: number;
  released: boolean;
  item: ItemInfo;
}

const ITEM_FIELDS = 'id name dailyRate storeId stock';

const GET_ITEM = `query ReservationsGetItem($id: ID!) { item(id: $id) { ${ITEM_FIELDS} } }`;
const HOLD = `mutation ReservationsHoldStock($reservationId: ID!, $itemId: ID!, $quantity: Int!) {
  holdStock(reservationId: $reservationId, itemId: $itemId, quantity: $quantity) {
    reservationId itemId quantity released item { ${ITEM_FIELDS} }
  }
}`;
const RELEASE = `mutation ReservationsReleaseStock($reservationId: ID!, $itemId: ID!) {
  releaseStock(reservationId: $reservationId, itemId: $itemId) {
    reservationId itemId quantity released item { ${ITEM_FIELDS} }
  }
}`;

export class ItemsClient {
  constructor(readonly dependency: DependencyClient) {}

  /** The item, or null when there is none with that id. */
  async getItem(id: string, ctx?: CallContext): Promise<ItemInfo | null> {
    const data = await this.dependency.request<{ item: ItemInfo | null }>('ReservationsGetItem', GET_ITEM, { id }, ctx);
    return data.item;
  }

  /** Takes `quantity` units for the reservation (once); INSUFFICIENT_STOCK / NOT_FOUND as DomainError. */
  async holdStock(reservationId: string, itemId: string, quantity: number, ctx?: CallContext): Promise<StockHold> {
    const data = await this.dependency.request<{ holdStock: StockHold }>(
      'ReservationsHoldStock',
      HOLD,
      { reservationId, itemId, quantity },
      ctx,
    );
    return data.holdStock;
  }

  /** Gives the reservation's stock back (once); null when it held none. */
  async releaseStock(reservationId: string, itemId: string, ctx?: CallContext): Promise<StockHold | null> {
    const data = await this.dependency.request<{ releaseStock: StockHold | null }>(
      'ReservationsReleaseStock',
      RELEASE,
      { reservationId, itemId },
      ctx,
    );
    return data.releaseStock;
  }
}
