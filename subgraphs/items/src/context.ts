/**
 * What each request's resolvers get: the caller, the data access, and a
 * per-request DataLoader that batches item lookups (the router sends many
 * `Item` representations in one `_entities` call).
 */
import DataLoader from 'dataloader';
import type { Admission, BaseContext } from '@rental/subgraph-server';
import type { Item, ItemsData } from './data/index.js';

/** The admission gates of the writes that can come in a rush. */
export interface ItemsGates {
  /** registerItem: REGISTER_ITEM_CONCURRENCY at once, no queue. */
  registrations: Admission;
  /** holdStock: HOLD_STOCK_CONCURRENCY at once, HOLD_STOCK_QUEUE waiting. */
  holds: Admission;
}

export interface ItemsContext extends BaseContext, ItemsGates {
  items: ItemsData;
  itemLoader: DataLoader<string, Item | null>;
  /** When the request reached this subgraph (performance.now()), for shedding latency. */
  receivedAt: number;
}

export function createContext(base: BaseContext, items: ItemsData, gates: ItemsGates): ItemsContext {
  return {
    ...base,
    items,
    ...gates,
    receivedAt: performance.now(),
    itemLoader: new DataLoader<string, Item | null>((ids) => items.findItems(ids), { maxBatchSize: 500 }),
  };
}
