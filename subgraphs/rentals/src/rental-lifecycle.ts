/**
 * Hand-over (`startRental`) and return (`returnRental`), by staff of the
 * rental's store.
 *
 * ## Refund versus hand-over
 * `startRental` is ONE conditional update (`AWAITING_PICKUP` +
 * `readyForPickup` + `PAID` → `ACTIVE`, `RentalStarted` in the same update),
 * the refund's cancel (`refund.ts`) another from `AWAITING_PICKUP`. The
 * database applies one single-document update at a time, so exactly one can
 * win; the other matches nothing and answers `INVALID_STATE`. No lock is
 * involved, so the API process (`startRental`, `refundPayment`) and the
 * worker (`ReservationCancelled`) arbitrate through the document alone.
 */
import { createEvent } from '@rental/events';
import { invalidState, notFound } from '@rental/errors';
import { refusalMessage, startRefusal } from './domain/index.js';
import { requireId } from './domain/ids.js';
import { isVoidMarker, type RentalDoc } from './data/index.js';
import type { RentalsDeps } from './deps.js';

/** Checks the caller against the rental (its store) before anything changes; throws to refuse. */
export type AuthorizeRental = (rental: RentalDoc) => void;

/** Hand-over: `AWAITING_PICKUP` → `ACTIVE` with `RentalStarted`; `INVALID_STATE` when not ready, not paid, or no longer awaiting pickup. */
export async function startRental(deps: RentalsDeps, rawReservationId: string, authorize: AuthorizeRental, requestId?: string): Promise<RentalDoc> {
  const { data, relay, logger } = deps;
  const reservationId = requireId('reservationId', rawReservationId);
  const doc = await data.findByReservation(reservationId);
  if (!doc || isVoidMarker(doc)) throw notFound('rental for reservation', reservationId);
  authorize(doc);
  const refusal = startRefusal({ state: doc.status, readyForPickup: doc.readyForPickup, paymentStatus: doc.payment.status });
  if (refusal) throw invalidState(refusal);
  const event = createEvent('RentalStarted', { rentalId: doc._id, reservationId }, requestId ? { requestId } : {});
  const started = await data.start(doc._id, event);
  if (!started) {
    const now = await data.findRecorded(doc._id);
    const why = startRefusal({ state: now.status, readyForPickup: now.readyForPickup, paymentStatus: now.payment.status });
    throw invalidState(why ?? 'rental changed meanwhile; try again');
  }
  relay?.flushSoon(started._id, data.model);
  logger.info({ reservationId, rentalId: started._id }, 'rental started');
  return started;
}

/** Return: `ACTIVE` → `RETURNED` with `RentalReturned` (items gives the stock back from it); `INVALID_STATE` otherwise. */
export async function returnRental(deps: RentalsDeps, rawRentalId: string, authorize: AuthorizeRental, requestId?: string): Promise<RentalDoc> {
  const { data, relay, logger } = deps;
  const rentalId = requireId('rentalId', rawRentalId);
  const doc = await data.findById(rentalId);
  if (!doc || isVoidMarker(doc)) throw notFound('rental', rentalId);
  authorize(doc);
  if (doc.status !== 'ACTIVE') throw invalidState(refusalMessage(doc.status, 'return'));
  const event = createEvent(
    'RentalReturned',
    { rentalId, reservationId: doc.reservationId, itemId: doc.itemId, quantity: doc.quantity },
    requestId ? { requestId } : {},
  );
  const returned = await data.markReturned(doc._id, event);
  if (!returned) {
    const now = await data.findById(rentalId);
    throw invalidState(refusalMessage(now?.status ?? doc.status, 'return'));
  }
  relay?.flushSoon(returned._id, data.model);
  logger.info({ reservationId: doc.reservationId, rentalId }, 'rental returned');
  return returned;
}
