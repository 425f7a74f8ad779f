/**
 * What each request's resolvers get: the data, the saga, the view and its
 * feed, and per-request loaders (the router may send many `Reservation`
 * representations in one `_entities` call).
 */
import DataLoader from 'dataloader';
import type { Admission, BaseContext } from '@rental/subgraph-server';
import type { ReservationDoc, ReservationParties, ReservationsData, ViewData, ViewDoc } from './data/index.js';
import type { ChangeLogReads } from './view/change-log-reads.js';
import type { ReservationSaga } from './saga/reservation-saga.js';
import type { ViewFeed } from './view/feed.js';
import type { FeedSequence } from './view/sequence.js';

export interface ReservationsContext extends BaseContext {
  data: ReservationsData;
  saga: ReservationSaga;
  /** Admission of createReservation (RESERVE_CONCURRENCY at once, RESERVE_QUEUE waiting). */
  reserving: Admission;
  /** The customer view (read model). */
  views: ViewData;
  /** Live view changes (Redis pub/sub). */
  feed: ViewFeed;
  /** The customer feed's sequence (Redis). */
  sequences: FeedSequence;
  /** Who may see each reservation (write model), remembered per process. */
  parties: ReservationParties;
  /** Replay reads shared by the subscriptions starting on one reservation. */
  changeLogReads: ChangeLogReads;
  /** Views read during this operation, by reservation id. */
  viewCache: Map<string, Promise<ViewDoc | null>>;
  /** Reservations (write model) read during this operation, by id, batched into one read. */
  reservationById: DataLoader<string, ReservationDoc | null>;
}

/** A fresh loader per request: batching within it, nothing cached across callers. */
export function reservationLoader(data: ReservationsData): DataLoader<string, ReservationDoc | null> {
  return new DataLoader((ids) => data.findByIds(ids), { maxBatchSize: 500 });
}
