/** What the stores resolvers get per request: the models, loaders and the store order writer. */
import DataLoader from 'dataloader';
import type { BaseContext } from '@rental/subgraph-server';
import type { StoreDoc, StoreOrderDoc, StoresModels } from './data/models.js';
import type { StoreOrderWriter } from './data/order-writer.js';
import { storesByIds } from './data/stores-data.js';
import { ordersByIds, ordersByReservationIds } from './data/store-orders-data.js';

export interface StoresLoaders {
  storeById: DataLoader<string, StoreDoc | null>;
  orderById: DataLoader<string, StoreOrderDoc | null>;
  orderByReservationId: DataLoader<string, StoreOrderDoc | null>;
}

export interface StoresContext extends BaseContext {
  models: StoresModels;
  loaders: StoresLoaders;
  /** Every store order write (locked, with its outbox flush). */
  orders: StoreOrderWriter;
}

/** Fresh loaders per request: batching within it, no caching across callers. */
export function createLoaders(models: StoresModels): StoresLoaders {
  return {
    storeById: new DataLoader((ids) => storesByIds(models.Store, ids), { maxBatchSize: 500 }),
    orderById: new DataLoader((ids) => ordersByIds(models.StoreOrder, ids), { maxBatchSize: 500 }),
    orderByReservationId: new DataLoader((ids) => ordersByReservationIds(models.StoreOrder, ids), { maxBatchSize: 500 }),
  };
}
