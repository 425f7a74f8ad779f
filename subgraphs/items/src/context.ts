/**
 * What each request's resolvers get: the caller, the data access, and a
 * per-request DataLoader that batches item lookups (the router sends many
 * `Item` representations in one `_entities` call).
 */
import DataLoader from 'dataloader';
import type { BaseContext } from '@rental/subgraph-server';
import type { Item, ItemsData } from './data/index.js';
import type { ConcurrencyGate } from './domain/index.js';

export interface ItemsContext extends BaseContext {
  items: ItemsData;
  itemLoader: DataLoader<string, Item | null>;
  /** Bounds concurrent registerItem calls (REGISTER_ITEM_CONCURRENCY). */
  registrations: ConcurrencyGate;
  /** When the request reached this subgraph (performance.now()), for shedding latency. */
  receivedAt: number;
}

export function createContext(base: BaseContext, items: ItemsData, registrations: ConcurrencyGate): ItemsContext {
  return {
    ...base,
    items,
    registrations,
    receivedAt: performance.now(),
    itemLoader: new DataLoader<string, Item | null>((ids) => items.findItems(ids), { maxBatchSize: 500 }),
  };
}
