/**
 * Who may see a reservation, and who may act for a store: the one rule every
 * subgraph asks (reservations for the reservation itself and its live
 * status, stores for its store order, rentals for its rental), so that the
 * reservation page never shows a part of a reservation to someone who may
 * not see the rest.
 *
 * - CUSTOMER: their own reservations (`customerId === sub`).
 * - STAFF: the reservations of their own store (`storeId`); a STAFF identity
 *   without a store sees none.
 * - ADMIN: every reservation.
 * - SERVICE: none. A service identity (another subgraph calling directly) is
 *   for the internal fields it was made for (`holdStock`, `releaseStock`,
 *   `chargePayment`, `refundPayment`, and the catalog's `item`); no service
 *   reads a reservation, a store order or a rental through the API (each
 *   subgraph reads its own data from its own database), so none gets a
 *   standing right to every customer's reservations. A service that one day
 *   needs to read one gets a field of its own, not this rule.
 * - ANONYMOUS: none.
 *
 * Whether a refusal is an error (reservations: FORBIDDEN) or a `null`
 * (a store order, a rental) is the subgraph's to decide; this only says
 * whether the caller may see it.
 */
import { AuthError, requireRole, type Identity } from './identity.js';

/** Whose a reservation is: its customer and its store (a store order or rental carries the same pair). */
export interface ReservationParties {
  readonly customerId: string | null;
  readonly storeId: string | null;
}

/** STAFF of `storeId` or ADMIN: who may act for a store (its orders, hand-overs, items). */
export function mayActForStore(identity: Identity, storeId: string | null): boolean {
  switch (identity.role) {
    case 'ADMIN':
      return true;
    case 'STAFF':
      return identity.storeId !== undefined && storeId !== null && identity.storeId === storeId;
    default:
      return false;
  }
}

/** Whether `identity` may see the reservation of `parties` (and its store order and rental): see the module comment. */
export function mayViewReservation(identity: Identity, parties: ReservationParties): boolean {
  if (identity.role === 'CUSTOMER') return parties.customerId !== null && identity.sub === parties.customerId;
  return mayActForStore(identity, parties.storeId);
}

/** Throwing form of {@link mayActForStore}: UNAUTHENTICATED for an anonymous caller, FORBIDDEN for anyone else it refuses. */
export function requireStoreAccess(identity: Identity, storeId: string): void {
  requireRole(identity, 'STAFF', 'ADMIN');
  if (!mayActForStore(identity, storeId)) throw new AuthError('staff may act only for their own store', 'FORBIDDEN');
}
