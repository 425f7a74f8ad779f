/**
 * The store order's life (docs/ARCHITECTURE.md, "StoreOrder"):
 *
 * ```
 * PENDING --prepareOrder--> READY --RentalStarted--> HANDED_OVER
 *    |                        |
 *    +--ReservationCancelled--+--> CANCELLED
 * ```
 *
 * HANDED_OVER and CANCELLED are final. Every move is written as one
 * conditional update from the expected previous status, so a repeated or late
 * event (or a second click on "prepare") changes nothing.
 */
import { DomainError } from '@rental/errors';

export const STORE_ORDER_STATUSES = ['PENDING', 'READY', 'HANDED_OVER', 'CANCELLED'] as const;
export type StoreOrderStatus = (typeof STORE_ORDER_STATUSES)[number];

/** What moves an order. */
export type StoreOrderAction = 'prepare' | 'handOver' | 'cancel';

/** The transitions table: action → the statuses it may start from, and where it leads. */
export const TRANSITIONS: { readonly [A in StoreOrderAction]: { readonly from: readonly StoreOrderStatus[]; readonly to: StoreOrderStatus } } = {
  prepare: { from: ['PENDING'], to: 'READY' },
  handOver: { from: ['READY'], to: 'HANDED_OVER' },
  cancel: { from: ['PENDING', 'READY'], to: 'CANCELLED' },
};

/** True when `status` is final: nothing moves the order any more. */
export function isFinal(status: StoreOrderStatus): boolean {
  return !Object.values(TRANSITIONS).some((t) => t.from.includes(status));
}

/** True when `action` may be applied to an order in `status`. */
export function canApply(action: StoreOrderAction, status: StoreOrderStatus): boolean {
  return TRANSITIONS[action].from.includes(status);
}

/** The status `action` leads to from `status`; throws INVALID_STATE when the move is not allowed. */
export function nextStatus(action: StoreOrderAction, status: StoreOrderStatus, orderId?: string): StoreOrderStatus {
  const t = TRANSITIONS[action];
  if (!t.from.includes(status)) {
    const which = orderId ? `store order ${orderId}` : 'store order';
    throw new DomainError('INVALID_STATE', `${which} is ${status}; cannot ${describe(action)} (needs ${t.from.join(' or ')})`, {
      status,
      ...(orderId ? { orderId } : {}),
    });
  }
  return t.to;
}

function describe(action: StoreOrderAction): string {
  switch (action) {
    case 'prepare':
      return 'prepare it';
    case 'handOver':
      return 'hand it over';
    case 'cancel':
      return 'cancel it';
  }
}
