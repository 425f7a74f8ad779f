/**
 * Amounts: integers in the currency's minor unit (the same unit as an item's
 * `dailyRate`), never floats.
 */
import { badInput } from '@rental/errors';

/** The currency every payment is made in; the API reports it on `Payment.currency`. */
export const CURRENCY = 'EUR';
export const MIN_AMOUNT = 1;
export const MAX_AMOUNT = 100_000_000;

/** Returns `amount` when it is an integer in 1..100 000 000; else `BAD_USER_INPUT` on `field`. */
export function validateAmount(amount: number, field = 'amount'): number {
  if (typeof amount !== 'number' || !Number.isInteger(amount)) throw badInput(field, 'must be an integer');
  if (amount < MIN_AMOUNT || amount > MAX_AMOUNT) {
    throw badInput(field, `must be between ${MIN_AMOUNT} and ${MAX_AMOUNT.toLocaleString('en-US').replace(/,/g, ' ')}`);
  }
  return amount;
}

/** Returns `quantity` when it is an integer of at least 1; else `BAD_USER_INPUT`. */
export function validateQuantity(quantity: number, field = 'quantity'): number {
  if (!Number.isInteger(quantity) || quantity < 1) throw badInput(field, 'must be an integer of at least 1');
  if (quantity > 10_000) throw badInput(field, 'must be at most 10000');
  return quantity;
}
