/**
 * Who may see a reservation (its customer and its store), remembered per
 * process: every subscription on a reservation checks it on the write model
 * first, and a burst of subscribers on one reservation would read the same
 * document again and again. A reservation's customer and store never change
 * once it exists, so a found one is kept (bounded LRU); concurrent checks
 * share one read; an unknown id is never remembered (it may be created the
 * next moment).
 */
import { LRUCache } from 'lru-cache';
import type { ReservationPartiesView } from '../domain/access.js';

/** What the check needs: the write model's reservation (ReservationsData). */
export interface ReservationSource {
  findById(id: string): Promise<ReservationPartiesView | null>;
}

/** The parties of a reservation: its customer and its store. */
export class ReservationParties {
  private readonly cache: LRUCache<string, Promise<ReservationPartiesView | null>>;

  constructor(
    private readonly source: ReservationSource,
    maxEntries = 10_000,
  ) {
    this.cache = new LRUCache({ max: maxEntries });
  }

  /** The reservation's parties, or null when there is no such reservation (not remembered). */
  of(id: string): Promise<ReservationPartiesView | null> {
    const known = this.cache.get(id);
    if (known) return known;
    const reading = this.source.findById(id).then((doc) =>
      doc ? { customerId: doc.customerId, storeId: doc.storeId } : null,
    );
    this.cache.set(id, reading);
    reading.then(
      (found) => {
        if (!found && this.cache.peek(id) === reading) this.cache.delete(id);
      },
      () => {
        if (this.cache.peek(id) === reading) this.cache.delete(id);
      },
    );
    return reading;
  }
}
