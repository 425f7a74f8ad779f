/**
 * Client-side checks that mirror the reservations subgraph's input rules
 * (subgraphs/reservations/src/domain/input.ts), so a person sees what to fix
 * before anything is sent. The server checks again; its word is final.
 * "Today" is the UTC calendar day, as on the server.
 */
export const MAX_DAYS = 90;
export const MAX_QUANTITY = 1000;
export const PAYMENT_TOKENS = ['tok_approve', 'tok_decline', 'tok_timeout'] as const;

export interface ReservationDraft {
  itemId: string;
  startDate: string;
  endDate: string;
  quantity: string;
  paymentToken: string;
}

export type DraftField = keyof ReservationDraft;
export type FieldErrors = Partial<Record<DraftField, string>>;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Day number (days since 1970-01-01) of an ISO calendar date, or null when it is not a real day. */
export function dayNumber(text: string): number | null {
  const m = DATE.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return Math.round(ms / 86_400_000);
}

export function todayUtcDay(now: Date = new Date()): number {
  return Math.floor(now.getTime() / 86_400_000);
}

/** ISO date of a day number. */
export function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** endDate − startDate in days, or null when either date is missing or invalid. */
export function rentalDays(startDate: string, endDate: string): number | null {
  const s = dayNumber(startDate);
  const e = dayNumber(endDate);
  return s === null || e === null ? null : e - s;
}

/** quantity × dailyRate × days, or null while it cannot be known. */
export function priceOf(quantity: number, dailyRate: number, days: number | null): number | null {
  if (days === null || days < 1 || days > MAX_DAYS || !Number.isInteger(quantity) || quantity < 1) return null;
  return quantity * dailyRate * days;
}

/** Field errors of a draft; empty when it may be sent. */
export function validateDraft(d: ReservationDraft, now: Date = new Date()): FieldErrors {
  const errors: FieldErrors = {};
  if (!d.itemId) errors.itemId = 'Choose an item.';

  const q = d.quantity.trim();
  if (!/^\d+$/.test(q)) errors.quantity = 'Enter a whole number of at least 1.';
  else if (Number(q) < 1) errors.quantity = 'The quantity must be at least 1.';
  else if (Number(q) > MAX_QUANTITY) errors.quantity = `The quantity can be at most ${MAX_QUANTITY}.`;

  const start = dayNumber(d.startDate);
  const end = dayNumber(d.endDate);
  if (!d.startDate) errors.startDate = 'Choose a start date.';
  else if (start === null) errors.startDate = 'Enter a real date, like 2027-03-01.';
  else if (start < todayUtcDay(now)) errors.startDate = 'The start date cannot be in the past.';

  if (!d.endDate) errors.endDate = 'Choose an end date.';
  else if (end === null) errors.endDate = 'Enter a real date, like 2027-03-04.';
  else if (start !== null && end <= start) errors.endDate = 'The end date must be after the start date.';
  else if (start !== null && end - start > MAX_DAYS) errors.endDate = `A rental lasts at most ${MAX_DAYS} days.`;

  if (!(PAYMENT_TOKENS as readonly string[]).includes(d.paymentToken)) errors.paymentToken = 'Choose a payment method.';
  return errors;
}

/** Cents → "€45.00". */
export function formatMoney(cents: number | null | undefined, currency = 'EUR'): string {
  if (cents === null || cents === undefined) return '—';
  return new Intl.NumberFormat('en-IE', { style: 'currency', currency }).format(cents / 100);
}

/** "2027-03-01" → "1 Mar 2027" (UTC, as the API's calendar dates). */
export function formatDate(iso: string): string {
  const day = dayNumber(iso);
  if (day === null) return iso;
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(day * 86_400_000),
  );
}
