/**
 * The reservation state machine of docs/ARCHITECTURE.md ("Domain"), as data:
 *
 * ```
 * PENDING --stock held + payment ok--> CONFIRMED --store prepared--> READY_FOR_PICKUP
 *    |--no stock--> REJECTED               |--cancel--> CANCELLED <--cancel
 *    |--payment declined--> PAYMENT_FAILED (stock given back)
 * READY_FOR_PICKUP --handed over--> RENTED --returned--> RETURNED
 * ```
 *
 * Every write of a status goes through {@link transition}, and the data layer
 * makes it one conditional update from the `from` status, so an illegal or
 * stale move can never land.
 */
import { invalidState } from '@rental/errors';

export const RESERVATION_STATUSES = [
  'PENDING',
  'CONFIRMED',
  'READY_FOR_PICKUP',
  'RENTED',
  'RETURNED',
  'CANCELLED',
  'REJECTED',
  'PAYMENT_FAILED',
] as const;

export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** Legal moves: status → the statuses it may move to. */
export const TRANSITIONS: { readonly [S in ReservationStatus]: readonly ReservationStatus[] } = {
  PENDING: ['CONFIRMED', 'REJECTED', 'PAYMENT_FAILED'],
  CONFIRMED: ['READY_FOR_PICKUP', 'CANCELLED'],
  READY_FOR_PICKUP: ['RENTED', 'CANCELLED'],
  RENTED: ['RETURNED'],
  RETURNED: [],
  CANCELLED: [],
  REJECTED: [],
  PAYMENT_FAILED: [],
};

/** Statuses with no way out. */
export const TERMINAL_STATUSES: readonly ReservationStatus[] = RESERVATION_STATUSES.filter((s) => TRANSITIONS[s].length === 0);

export function isReservationStatus(value: unknown): value is ReservationStatus {
  return typeof value === 'string' && (RESERVATION_STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: ReservationStatus, to: ReservationStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: ReservationStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** One step of a status change, as recorded in the reservation's history. */
export interface Transition {
  from: ReservationStatus;
  to: ReservationStatus;
  reason?: string;
}

/** Checks a move against the table; throws INVALID_STATE for an illegal one. */
export function transition(from: ReservationStatus, to: ReservationStatus, reason?: string): Transition {
  if (!canTransition(from, to)) {
    throw invalidState(`a ${from} reservation cannot become ${to}`);
  }
  return reason === undefined ? { from, to } : { from, to, reason };
}

/**
 * The happy path after confirmation. Events about it may arrive out of order
 * (different queues, retries): a `RentalStarted` can be handled before the
 * `StoreOrderPrepared` that preceded it. {@link forwardPath} lets a consumer
 * apply every implied step at once instead of dropping the later event.
 */
const LIFECYCLE: readonly ReservationStatus[] = ['CONFIRMED', 'READY_FOR_PICKUP', 'RENTED', 'RETURNED'];

/**
 * The legal steps that lead from `from` to `to` along the lifecycle
 * (CONFIRMED → READY_FOR_PICKUP → RENTED → RETURNED), e.g.
 * `forwardPath('CONFIRMED', 'RENTED')` = [CONFIRMED→READY_FOR_PICKUP, READY_FOR_PICKUP→RENTED].
 * Returns `null` when `to` is not ahead of `from` (already there or past it,
 * or `from` is off the lifecycle, e.g. CANCELLED): the event changes nothing.
 */
export function forwardPath(from: ReservationStatus, to: ReservationStatus): Transition[] | null {
  const i = LIFECYCLE.indexOf(from);
  const j = LIFECYCLE.indexOf(to);
  if (i < 0 || j < 0 || j <= i) return null;
  const steps: Transition[] = [];
  for (let k = i; k < j; k += 1) steps.push(transition(LIFECYCLE[k]!, LIFECYCLE[k + 1]!));
  return steps;
}
