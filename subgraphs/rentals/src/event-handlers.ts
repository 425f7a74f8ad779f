/**
 * What the rentals worker does with the events it consumes
 * (`rentals-events`), each idempotent per event id: a redelivery, or a
 * second worker handling the same job, changes nothing more.
 */
import { DomainError } from '@rental/errors';
import type { Logger } from '@rental/observability';
import type { RentalsDeps } from './deps.js';
import { refundPayment } from './refund.js';

/** `StoreOrderPrepared`: the store has the items ready, so the rental may be handed over. */
export async function onStoreOrderPrepared(deps: RentalsDeps, reservationId: string, eventId: string, log: Logger = deps.logger): Promise<void> {
  const changed = await deps.data.markReady(reservationId, eventId);
  if (changed) return;
  const doc = await deps.data.findByReservation(reservationId);
  if (!doc) log.warn({ reservationId }, 'StoreOrderPrepared for a reservation without a rental; ignored');
  else log.debug({ reservationId }, 'StoreOrderPrepared already processed');
}

/**
 * `ReservationCancelled`: refund if the rental was not handed over (a
 * hand-over that won the race is logged and left alone); other failures
 * throw, and the queue retries the job.
 */
export async function onReservationCancelled(deps: RentalsDeps, reservationId: string, eventId: string, log: Logger = deps.logger): Promise<void> {
  const before = await deps.data.findByReservation(reservationId);
  if (!before) {
    log.info({ reservationId }, 'ReservationCancelled for a reservation without a rental; nothing to refund');
    return;
  }
  if (before.processedEvents?.[eventId] === true) return;
  try {
    await refundPayment(deps, reservationId);
  } catch (err) {
    if (!(err instanceof DomainError && err.code === 'INVALID_STATE')) throw err; // retried by the queue
    log.warn({ reservationId, reason: err.message }, 'ReservationCancelled after hand-over; not refunded');
  }
  await deps.data.markEventProcessed(reservationId, eventId);
}
