/**
 * Input rules of the reservation mutations. Each failure is BAD_USER_INPUT
 * naming its field (`"<field>: <rule>"`, `extensions.field`), checked before
 * anything is written or any other subgraph is called.
 *
 * Not checked here: "quantity above the item's stock" (items answers
 * INSUFFICIENT_STOCK when it takes the stock, the only race-free place) and
 * "unknown item" (items answers NOT_FOUND).
 */
import { badInput } from '@rental/errors';
import { parseCalendarDate, todayUtc } from './dates.js';
import { rentalDays } from './pricing.js';

export const MAX_QUANTITY = 1000;
export const MAX_REASON_LENGTH = 500;
export const MAX_PAYMENT_TOKEN_LENGTH = 100;
export const MAX_ID_LENGTH = 128;

export interface CreateReservationInput {
  itemId: string;
  quantity: number;
  startDate: string;
  endDate: string;
  paymentToken: string;
}

/** A checked `createReservation` input. */
export interface ValidReservationRequest {
  itemId: string;
  quantity: number;
  startDate: string;
  endDate: string;
  /** endDate − startDate, 1..90. */
  days: number;
  paymentToken: string;
}

function requireId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0) throw badInput(field, 'must not be empty');
  if (value.length > MAX_ID_LENGTH) throw badInput(field, `must be at most ${MAX_ID_LENGTH} characters`);
  return value.trim();
}

/** Quantity: an integer 1..1000. */
export function validateQuantity(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badInput('quantity', 'must be an integer');
  if (value < 1) throw badInput('quantity', 'must be at least 1');
  if (value > MAX_QUANTITY) throw badInput('quantity', `must be at most ${MAX_QUANTITY}`);
  return value;
}

/** Validates a `createReservation` input against the calendar of `now` (UTC). */
export function validateCreateReservation(input: CreateReservationInput, now: Date = new Date()): ValidReservationRequest {
  const itemId = requireId('itemId', input.itemId);
  const quantity = validateQuantity(input.quantity);
  const start = parseCalendarDate('startDate', input.startDate);
  const end = parseCalendarDate('endDate', input.endDate);
  if (start.day < todayUtc(now)) throw badInput('startDate', 'must not be in the past');
  const days = rentalDays(start.day, end.day);
  const paymentToken = input.paymentToken;
  if (typeof paymentToken !== 'string' || paymentToken.length === 0) throw badInput('paymentToken', 'must not be empty');
  if (paymentToken.length > MAX_PAYMENT_TOKEN_LENGTH) {
    throw badInput('paymentToken', `must be at most ${MAX_PAYMENT_TOKEN_LENGTH} characters`);
  }
  return { itemId, quantity, startDate: start.text, endDate: end.text, days, paymentToken };
}

/** A cancel reason: optional, at most 500 characters, trimmed; empty means none. */
export function validateReason(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw badInput('reason', 'must be a string');
  if (value.length > MAX_REASON_LENGTH) throw badInput('reason', `must be at most ${MAX_REASON_LENGTH} characters`);
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}

/** A reservation id from the API: any non-empty string up to 128 characters (unknown ids are simply not found). */
export function validateReservationId(value: unknown): string {
  return requireId('id', value);
}
