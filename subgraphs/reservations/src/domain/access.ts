/**
 * Who may see, create and cancel a reservation, as the reservations API
 * answers it (errors, not nulls).
 *
 * - See: whoever `mayViewReservation` (`@rental/auth`, the rule stores and
 *   rentals use for its order and rental too) lets see it: its customer,
 *   STAFF of its store, ADMIN. Anonymous: UNAUTHENTICATED; anyone else,
 *   a SERVICE too: FORBIDDEN.
 * - Create: CUSTOMER only (the reservation is theirs).
 * - Cancel: whoever may see it (the same rule); only from CONFIRMED or
 *   READY_FOR_PICKUP (before hand-over). Who is asked first, then the state:
 *   a stranger learns nothing about the state of someone else's reservation.
 */
import { AuthError, mayViewReservation, requireRole, type Identity } from '@rental/auth';
import { invalidState } from '@rental/errors';
import type { ReservationStatus } from './status.js';

/** What access rules need to know of a reservation. */
export interface ReservationAccessView {
  customerId: string;
  storeId: string;
  status: ReservationStatus;
}

/** Statuses a reservation can be cancelled from. */
export const CANCELLABLE_FROM: readonly ReservationStatus[] = ['CONFIRMED', 'READY_FOR_PICKUP'];

/** The parties of a reservation: who may see it besides admins. */
export type ReservationPartiesView = Pick<ReservationAccessView, 'customerId' | 'storeId'>;

/** Throws UNAUTHENTICATED (anonymous) or FORBIDDEN unless `identity` may see the reservation. */
export function assertCanView(identity: Identity, r: ReservationPartiesView): void {
  requireRole(identity, 'CUSTOMER', 'STAFF', 'ADMIN');
  if (!mayViewReservation(identity, r)) throw new AuthError('this reservation is not yours', 'FORBIDDEN');
}

/** Throws UNAUTHENTICATED / FORBIDDEN unless `identity` may create reservations. */
export function assertCanCreate(identity: Identity): void {
  requireRole(identity, 'CUSTOMER');
}

/** Throws UNAUTHENTICATED / FORBIDDEN, then INVALID_STATE, unless `identity` may cancel `r` now. */
export function assertCanCancel(identity: Identity, r: ReservationAccessView): void {
  requireRole(identity, 'CUSTOMER', 'STAFF', 'ADMIN');
  if (!mayViewReservation(identity, r)) throw new AuthError('only its customer, staff of its store or an admin may cancel a reservation', 'FORBIDDEN');
  if (!CANCELLABLE_FROM.includes(r.status)) {
    throw invalidState(`a ${r.status} reservation cannot be cancelled (only ${CANCELLABLE_FROM.join(' or ')})`);
  }
}
