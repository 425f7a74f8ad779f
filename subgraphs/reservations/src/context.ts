import type { Admission, BaseContext } from '@rental/subgraph-server';
import type { ReservationsData, ViewData, ViewDoc } from './data/index.js';
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
  /** Views read during this operation, by reservation id. */
  viewCache: Map<string, Promise<ViewDoc | null>>;
}
