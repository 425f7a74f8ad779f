/**
 * `refundPayment`: gives a reservation's payment back and cancels its
 * rental, or voids a reservation whose charge was never recorded.
 *
 * - No record yet (the saga gave up on a slow charge, or the charging process
 *   died after the provider charged but before the insert): insert a `VOIDED`
 *   marker (the rental `CANCELLED`, no payment) first, so a late charge's
 *   insert fails and that charge gives its money back (`charge.ts`); then void
 *   at the provider by reference (gives back a charge made before a crash;
 *   moves nothing otherwise) and answer `null`: no payment is recorded. A
 *   refund that finds the marker voids again (idempotent) and answers `null`.
 * - `PAID` + `AWAITING_PICKUP`: ONE conditional update to `CANCELLED` (the
 *   arbiter against hand-over, `rental-lifecycle.ts`), then the provider's
 *   refund, then ONE conditional update `PAID` → `REFUNDED`.
 * - `PAID` + `CANCELLED` (another refund is giving the money back, or died
 *   doing it): refund at the provider too (idempotent: the money goes back
 *   once) and record `REFUNDED` unless the other did first. No lease, no wait.
 * - `PAID` + `ACTIVE`/`RETURNED`: `INVALID_STATE` ("already handed over").
 * - `DECLINED`, `FAILED`, `REFUNDED`: answered as they are.
 *
 * Crash after the cancel, before `REFUNDED`: the next refund call (saga
 * retry, the `ReservationCancelled` consumer) finds `CANCELLED` + `PAID` and
 * completes it at once. A provider that does not confirm a refund:
 * `SERVICE_UNAVAILABLE`, and the record still says the money is owed.
 */
import { invalidState } from '@rental/errors';
import { canTransition, refusalMessage } from './domain/index.js';
import { requireId } from './domain/ids.js';
import { isVoidMarker, type RentalDoc } from './data/index.js';
import type { RentalsDeps } from './deps.js';
import { refundAtProvider, voidAtProvider } from './provider-calls.js';

/**
 * `refundPayment`: refunds the reservation's payment and cancels its rental.
 * `null` when no charge is recorded (a void marker is left, see the module
 * comment); the payment as it is when there is nothing to refund (declined,
 * failed, already refunded); `INVALID_STATE` once handed over.
 */
export async function refundPayment(deps: RentalsDeps, rawReservationId: string): Promise<RentalDoc | null> {
  const { data, logger } = deps;
  const reservationId = requireId('reservationId', rawReservationId);
  let doc = await data.findByReservation(reservationId);
  if (!doc) {
    if (await data.insertVoidMarker(reservationId)) {
      logger.info({ reservationId }, 'refund before any recorded charge: reservation voided');
      await voidAtProvider(deps, reservationId);
      return null;
    }
    // A charge (or another refund's marker) was inserted meanwhile.
    doc = await data.findByReservation(reservationId);
    if (!doc) throw new Error(`rental for reservation ${reservationId} refused an insert but cannot be read`);
  }
  // States only move forward (AWAITING_PICKUP → ACTIVE | CANCELLED, PAID →
  // REFUNDED), so this loop turns at most twice.
  for (;;) {
    if (isVoidMarker(doc)) {
      await voidAtProvider(deps, reservationId);
      return null;
    }
    if (doc.payment.status !== 'PAID') return doc; // DECLINED, FAILED, REFUNDED: nothing (more) to refund
    if (doc.status === 'CANCELLED') return giveBack(deps, doc);
    if (!canTransition(doc.status, 'cancel')) throw invalidState(refusalMessage(doc.status, 'cancel'));
    const cancelled = await data.cancelForRefund(doc._id);
    if (cancelled) return giveBack(deps, cancelled);
    // Lost a race (a hand-over, another refund): look again.
    doc = await data.findRecorded(doc._id);
  }
}

/** A cancelled rental with its payment still `PAID`: gives the money back and records `REFUNDED`. */
async function giveBack(deps: RentalsDeps, doc: RentalDoc): Promise<RentalDoc> {
  const { payment, reservationId } = doc;
  const refundRef = await refundAtProvider(deps, {
    reference: reservationId,
    providerRef: payment.providerRef,
    amount: payment.amount,
    currency: payment.currency,
  });
  const refunded = await deps.data.markRefunded(doc._id, refundRef);
  if (refunded) {
    deps.logger.info({ reservationId, rentalId: doc._id, amount: payment.amount }, 'payment refunded');
    return refunded;
  }
  return deps.data.findRecorded(doc._id); // a concurrent refund recorded it first
}
