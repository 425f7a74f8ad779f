/**
 * The rental state machine.
 *
 * A rental document is created together with its payment once the provider
 * has answered the saga's charge (`chargePayment`), already in its first
 * state ({@link rentalStateAfterCharge}): paid → `AWAITING_PICKUP`, declined
 * or failed → `CANCELLED`. Then:
 *
 * ```
 * (charged) --paid--> AWAITING_PICKUP --start--> ACTIVE --return--> RETURNED
 *     |                     |
 *     +--not paid--> CANCELLED <--cancel (refund)
 * ```
 *
 * A refund asked for before any charge was recorded also leaves a
 * `CANCELLED` document: its payment is `VOIDED` (see `payment.ts`).
 *
 * `start` additionally needs the store order prepared (`readyForPickup`, learnt
 * from the `StoreOrderPrepared` event) and a `PAID` payment; see
 * {@link startRefusal}. `cancel` is what a refund does: rentals is the arbiter
 * of hand-over versus cancel, so whichever of the two conditional updates
 * lands first wins and the other is refused.
 */
import { invalidState } from '@rental/errors';

/** Every state a rental document can be in (the public `RentalStatus` enum shows them all). */
export const RENTAL_STATES = ['AWAITING_PICKUP', 'ACTIVE', 'RETURNED', 'CANCELLED'] as const;
export type RentalState = (typeof RENTAL_STATES)[number];

/** What can happen to a rental once it exists. */
export type RentalEvent = 'start' | 'return' | 'cancel';

/**
 * The state a rental is created in, from its charge's final answer: only a
 * paid rental can be picked up; a declined or failed one is born cancelled.
 */
export function rentalStateAfterCharge(paymentStatus: 'PAID' | 'DECLINED' | 'FAILED'): RentalState {
  return paymentStatus === 'PAID' ? 'AWAITING_PICKUP' : 'CANCELLED';
}

/** The transitions table: state → event → next state. A missing entry is a refused transition. */
export const RENTAL_TRANSITIONS: Readonly<Record<RentalState, Partial<Record<RentalEvent, RentalState>>>> = {
  AWAITING_PICKUP: { start: 'ACTIVE', cancel: 'CANCELLED' },
  ACTIVE: { return: 'RETURNED' },
  RETURNED: {},
  CANCELLED: {},
};

/** The next state, or `undefined` when `event` is not allowed in `state`. */
export function nextState(state: RentalState, event: RentalEvent): RentalState | undefined {
  return RENTAL_TRANSITIONS[state][event];
}

/** True when `event` may happen in `state`. */
export function canTransition(state: RentalState, event: RentalEvent): boolean {
  return nextState(state, event) !== undefined;
}

/** The next state; throws `INVALID_STATE` with a message saying why not. */
export function transition(state: RentalState, event: RentalEvent): RentalState {
  const next = nextState(state, event);
  if (!next) throw invalidState(refusalMessage(state, event));
  return next;
}

/** States a rental can be in and still be cancelled (refunded). */
export const CANCELLABLE_STATES: readonly RentalState[] = RENTAL_STATES.filter((s) => canTransition(s, 'cancel'));

/** The human reason a transition is refused. */
export function refusalMessage(state: RentalState, event: RentalEvent): string {
  switch (event) {
    case 'start':
      if (state === 'ACTIVE') return 'rental already started';
      if (state === 'RETURNED') return 'rental already returned';
      if (state === 'CANCELLED') return 'rental is cancelled';
      break;
    case 'return':
      if (state === 'RETURNED') return 'rental already returned';
      if (state === 'CANCELLED') return 'rental is cancelled';
      if (state === 'AWAITING_PICKUP') return 'rental has not started yet';
      break;
    case 'cancel':
      if (state === 'ACTIVE' || state === 'RETURNED') return 'rental already handed over';
      if (state === 'CANCELLED') return 'rental is already cancelled';
      break;
    default:
      break;
  }
  return `a rental in state ${state} cannot ${event}`;
}

/** What `startRental` needs to know about a rental. */
export interface StartableRental {
  state: RentalState;
  readyForPickup: boolean;
  paymentStatus: string;
}

/**
 * Why a rental cannot be handed over now, or `undefined` when it can. Order
 * matters: a cancelled rental is "cancelled" even if the order was prepared.
 */
export function startRefusal(rental: StartableRental): string | undefined {
  if (!canTransition(rental.state, 'start')) return refusalMessage(rental.state, 'start');
  if (rental.paymentStatus !== 'PAID') return `rental payment is ${rental.paymentStatus.toLowerCase()}`;
  if (!rental.readyForPickup) return 'rental is not ready for pickup yet: the store has not prepared the order';
  return undefined;
}
