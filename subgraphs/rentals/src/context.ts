/**
 * What each request's resolvers get: the caller, the use cases, and
 * per-request DataLoaders (the router sends many `Reservation`/`Rental`
 * representations in one `_entities` call).
 */
import DataLoader from 'dataloader';
import type { BaseContext } from '@rental/subgraph-server';
import type { RentalsData, StoredRental } from './data/index.js';
import type { RentalsService } from './service.js';

export interface RentalsContext extends BaseContext {
  rentals: RentalsService;
  rentalById: DataLoader<string, StoredRental | null>;
  rentalByReservation: DataLoader<string, StoredRental | null>;
}

export function createContext(base: BaseContext, data: RentalsData, rentals: RentalsService): RentalsContext {
  return {
    ...base,
    rentals,
    rentalById: new DataLoader((ids) => data.findByIds(ids), { maxBatchSize: 500 }),
    rentalByReservation: new DataLoader((ids) => data.findByReservationIds(ids), { maxBatchSize: 500 }),
  };
}
