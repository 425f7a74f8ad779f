/** What the stores resolvers get per request: the data access, loaders and the store order writer. */
import DataLoader from 'dataloader';
import type { BaseContext } from '@rental/subgraph-server';
import type { StoreDoc, StoreOrderDoc, StoreOrderWriter, StoreOrdersData, StoresData } from './data/index.js';

/** The per-request batching of the entity lookups (the router sends many representations in one `_entities` call). */
export interface StoresLoaders {
  storeById: DataLoader<string, StoreDoc | null>;
  orderById: DataLoader<string, StoreOrderDoc | null>;
  orderByReservationId: DataLoader<string, StoreOrderDoc | null>;
}

/** The context of one request. */
export interface StoresContext extends BaseContext {
  stores: StoresData;
  /** Reads of store orders; every write goes through `orders`. */
  storeOrders: StoreOrdersData;
  loaders: StoresLoaders;
  /** Every store order write (with its outbox flush). */
  orders: StoreOrderWriter;
}

/** Fresh loaders per request: batching within it, no caching across callers. */
export function createLoaders(stores: StoresData, storeOrders: StoreOrdersData): StoresLoaders {
  return {
    storeById: new DataLoader((ids) => stores.findByIds(ids), { maxBatchSize: 500 }),
    orderById: new DataLoader((ids) => storeOrders.findByIds(ids), { maxBatchSize: 500 }),
    orderByReservationId: new DataLoader((ids) => storeOrders.findByReservationIds(ids), { maxBatchSize: 500 }),
  };
}
