/**
 * What each request's resolvers get: the caller, the data access, and a
 * per-request DataLoader that batches item lookups (the router sends many
 * `Item` representations in one `_entities` call).
 */
import DataLoader from 'dataloader';
import type { BaseContext } from '@rental/subgraph-server';
import type { Item, ItemsData } from './data/index.js';

export interface ItemsContext extends BaseContext {
  items: ItemsData;
  itemLoader: DataLoader<string, Item | null>;
}

export function createContext(base: BaseContext, items: ItemsData): ItemsContext {
  return {
    ...base,
    items,
    itemLoader: new DataLoader<string, Item | null>((ids) => items.findItems(ids), { maxBatchSize: 500 }),
  };
}
