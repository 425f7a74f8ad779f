/**
 * The rentals use cases, wired to one set of dependencies: what the
 * resolvers (`ctx.rentals`, after their authorization) and the worker's
 * event handlers call. Each lives in the module of its concept, with its
 * protocol beside it:
 * - `charge.ts`: `chargePayment`, one insert and no read; a duplicate asks the
 *   provider again (its idempotency key) and answers the record; nobody waits.
 * - `refund.ts`: `refundPayment`, the void marker before any charge, the give-back.
 * - `rental-lifecycle.ts`: hand-over and return; refund versus hand-over.
 * - `event-handlers.ts`: `StoreOrderPrepared`, `ReservationCancelled`.
 * - `provider-calls.ts`: the provider's calls, their timeout and what a failure means.
 * Domain rules come from `domain/`, storage from `data/`.
 */
import type { Logger } from '@rental/observability';
import type { RentalDoc } from './data/index.js';
import type { RentalsDeps } from './deps.js';
import { chargePayment, type ChargeInput } from './charge.js';
import { onReservationCancelled, onStoreOrderPrepared } from './event-handlers.js';
import { refundPayment } from './refund.js';
import { returnRental, startRental, type AuthorizeRental } from './rental-lifecycle.js';

export type { ChargeInput } from './charge.js';

/** What `runtime.ts` gives the use cases. */
export type RentalsServiceOptions = RentalsDeps;

/** The use cases of one process (see the module comment for where each is written). */
export class RentalsService {
  constructor(private readonly deps: RentalsDeps) {}

  /** `chargePayment` (`charge.ts`): the rental with its payment as recorded. */
  charge(input: ChargeInput): Promise<RentalDoc> {
    return chargePayment(this.deps, input);
  }

  /** `refundPayment` (`refund.ts`): `null` when no charge is recorded (the reservation is voided). */
  refund(reservationId: string): Promise<RentalDoc | null> {
    return refundPayment(this.deps, reservationId);
  }

  /** `startRental` (`rental-lifecycle.ts`): hand-over, after `authorize` accepts the caller for the rental. */
  start(reservationId: string, authorize: AuthorizeRental, requestId?: string): Promise<RentalDoc> {
    return startRental(this.deps, reservationId, authorize, requestId);
  }

  /** `returnRental` (`rental-lifecycle.ts`): return, after `authorize` accepts the caller for the rental. */
  return(rentalId: string, authorize: AuthorizeRental, requestId?: string): Promise<RentalDoc> {
    return returnRental(this.deps, rentalId, authorize, requestId);
  }

  /** `StoreOrderPrepared` (`event-handlers.ts`): the rental is ready for pickup; idempotent per event id. */
  markReady(reservationId: string, eventId: string, log?: Logger): Promise<void> {
    return onStoreOrderPrepared(this.deps, reservationId, eventId, log);
  }

  /** `ReservationCancelled` (`event-handlers.ts`): refund unless handed over; idempotent per event id. */
  cancelFromEvent(reservationId: string, eventId: string, log?: Logger): Promise<void> {
    return onReservationCancelled(this.deps, reservationId, eventId, log);
  }
}
