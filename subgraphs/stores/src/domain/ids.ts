/**
 * Identifier rules.
 *
 * - A store id is chosen by the admin (readable ids such as "S1" for seeds and
 *   tests) or generated (ObjectId hex). It is used as a map key and in URLs,
 *   so it is limited to `[A-Za-z0-9_-]{1,40}`.
 * - A store order's id is derived from its reservation id, deterministically:
 *   the same `ReservationConfirmed` delivered again names the same order, so
 *   the insert of a repeat fails on `_id` and creates nothing new. A cancel
 *   that arrives before the confirm can also find (or create) the order by the
 *   same id.
 */
import { nameBasedId } from '@rental/db';

export const STORE_ID_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

/** True when `id` has the shape of a store id. */
export function isStoreId(id: string): boolean {
  return STORE_ID_PATTERN.test(id);
}

/**
 * The store order id of a reservation: a name-based UUID (version 5 layout,
 * SHA-1 of a fixed namespace string and the reservation id).
 */
export function storeOrderIdFor(reservationId: string): string {
  return nameBasedId('rental:store-order', reservationId);
}
