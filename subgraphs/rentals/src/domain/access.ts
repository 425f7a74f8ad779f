/**
 * Who may see a rental: its customer, STAFF of its store, ADMIN, and trusted
 * services. Everyone else gets `null` (the rental's existence is not revealed).
 */
import type { Identity } from '@rental/auth';

export interface RentalOwnership {
  customerId: string;
  storeId: string;
}

export function canViewRental(identity: Identity, rental: RentalOwnership): boolean {
  switch (identity.role) {
    case 'ADMIN':
    case 'SERVICE':
      return true;
    case 'STAFF':
      return identity.storeId === rental.storeId;
    case 'CUSTOMER':
      return identity.sub === rental.customerId;
    default:
      return false;
  }
}
