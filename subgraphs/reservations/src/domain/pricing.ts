/**
 * Price = quantity × dailyRate × days, days = endDate − startDate (the return
 * day is not charged). Amounts are integers in the smallest currency unit and
 * must fit the GraphQL `Int` (32-bit) that carries them to rentals and back.
 */
import { badInput } from '@rental/errors';

export const MIN_DAYS = 1;
export const MAX_DAYS = 90;
/** The largest amount a GraphQL `Int` can carry. */
export const MAX_AMOUNT = 2_147_483_647;

/** Days charged between two day numbers; throws BAD_USER_INPUT outside 1..90. */
export function rentalDays(startDay: number, endDay: number): number {
  const days = endDay - startDay;
  if (days < MIN_DAYS) throw badInput('endDate', 'must be after startDate');
  if (days > MAX_DAYS) throw badInput('endDate', `a rental lasts at most ${MAX_DAYS} days`);
  return days;
}

/**
 * quantity × dailyRate × days. Computed in BigInt, so no intermediate can lose
 * precision; an amount over {@link MAX_AMOUNT} is refused (BAD_USER_INPUT on
 * `quantity`, the part the customer chose) rather than wrapped or rounded.
 */
export function totalPrice(quantity: number, dailyRate: number, days: number): number {
  for (const [name, v] of [
    ['quantity', quantity],
    ['dailyRate', dailyRate],
    ['days', days],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`totalPrice: ${name} must be a non-negative integer, got ${v}`);
  }
  const amount = BigInt(quantity) * BigInt(dailyRate) * BigInt(days);
  if (amount > BigInt(MAX_AMOUNT)) {
    throw badInput('quantity', `the total price ${amount} exceeds the largest accepted amount ${MAX_AMOUNT}`);
  }
  return Number(amount);
}
