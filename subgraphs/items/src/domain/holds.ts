/**
 * Rules for holding stock for a reservation.
 *
 * A hold is recorded on the item under `holds.<reservationId>` (see
 * docs/ARCHITECTURE.md, "MongoDB subset"), so the reservation id becomes a
 * document key: it must be a UUID or an ObjectId in hex, never containing
 * `.` or `$`. It is lower-cased so one reservation cannot hold twice under
 * two spellings of its id.
 */
import { badInput, DomainError } from '@rental/errors';

export const MAX_HOLD_QUANTITY = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OBJECT_ID_HEX = /^[0-9a-f]{24}$/;

/** Returns the canonical (lower-case) reservation id, or throws BAD_USER_INPUT on `reservationId`. */
export function normalizeReservationId(reservationId: string): string {
  const id = typeof reservationId === 'string' ? reservationId.trim().toLowerCase() : '';
  if (!UUID.test(id) && !OBJECT_ID_HEX.test(id)) {
    throw badInput('reservationId', 'must be a UUID or a 24-digit hex ObjectId');
  }
  return id;
}

/** Throws BAD_USER_INPUT on `quantity` unless it is an integer in 1..MAX_HOLD_QUANTITY. */
export function validateHoldQuantity(quantity: number): number {
  if (typeof quantity !== 'number' || !Number.isInteger(quantity)) throw badInput('quantity', 'must be an integer');
  if (quantity < 1 || quantity > MAX_HOLD_QUANTITY) {
    throw badInput('quantity', `must be between 1 and ${MAX_HOLD_QUANTITY}`);
  }
  return quantity;
}

/** The stock is short for the requested hold. */
export function insufficientStock(itemId: string, requested: number, available: number): DomainError {
  return new DomainError(
    'INSUFFICIENT_STOCK',
    `item ${itemId} has ${available} unit(s) in stock, ${requested} requested`,
    { itemId, requested, available },
  );
}

/** The reservation already holds stock of this item, for a different quantity. */
export function holdConflict(reservationId: string, itemId: string, held: number, requested: number): DomainError {
  return new DomainError(
    'INVALID_STATE',
    `reservation ${reservationId} already holds ${held} unit(s) of item ${itemId}; cannot hold ${requested}`,
    { field: 'quantity', reservationId, itemId, heldQuantity: held },
  );
}
