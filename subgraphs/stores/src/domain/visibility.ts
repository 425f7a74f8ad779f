/**
 * Who may see a store order (used by `Reservation.storeOrder`, the
 * `StoreOrder` entity and `storeOrders`):
 * - the reservation's customer (`order.customerId === identity.sub`, role CUSTOMER);
 * - STAFF of the order's store;
 * - ADMIN;
 * - a trusted SERVICE (another subgraph calling directly).
 * Anyone else gets `null` in place of the order, not an error, so one hidden
 * order does not fail a whole reservation query.
 */
import type { Identity } from '@rental/auth';

export function canSeeStoreOrder(identity: Identity, order: { customerId: string; storeId: string }): boolean {
  switch (identity.role) {
    case 'ADMIN':
    case 'SERVICE':
      return true;
    case 'STAFF':
      return identity.storeId === order.storeId;
    case 'CUSTOMER':
      return identity.sub === order.customerId;
    default:
      return false;
  }
}
