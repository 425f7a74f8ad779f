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
import { createHash } from 'node:crypto';

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
  const hash = createHash('sha1').update(`rental:store-order:${reservationId}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
