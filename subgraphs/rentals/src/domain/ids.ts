/**
 * The ids rentals accepts from its callers (reservation, customer, store,
 * item, rental): what every use case checks first, so a bad id is
 * BAD_USER_INPUT naming the field and never reaches the database or the
 * provider (where the reservation id is the idempotency key).
 */
import { badInput } from '@rental/errors';

const MAX_ID_LENGTH = 128;

/** The id, trimmed; BAD_USER_INPUT on `field` when it is empty, longer than 128 characters, or has characters other than letters, digits, `_` and `-`. */
export function requireId(field: string, value: string): string {
  const v = typeof value === 'string' ? value.trim() : '';
  if (!v) throw badInput(field, 'is required');
  if (v.length > MAX_ID_LENGTH) throw badInput(field, `must be at most ${MAX_ID_LENGTH} characters`);
  if (!/^[A-Za-z0-9_-]+$/.test(v)) throw badInput(field, 'may contain only letters, digits, _ and -');
  return v;
}
