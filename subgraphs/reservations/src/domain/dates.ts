/**
 * Calendar dates ("2027-03-01"), as the public `Date` scalar carries them.
 * Dates are whole UTC days: no time zone, no time of day. Arithmetic is done
 * on day numbers (days since 1970-01-01), never on local `Date` objects.
 */
import { badInput } from '@rental/errors';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** Day number (days since 1970-01-01 UTC) of a strict `YYYY-MM-DD` real calendar date, else `null`. */
export function dayNumber(value: string): number | null {
  const m = ISO_DATE.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return null;
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC rolls 2027-02-30 over to March: a round trip catches it.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return null;
  return Math.round(ms / MS_PER_DAY);
}

/** True for a strict `YYYY-MM-DD` that names a real calendar date. */
export function isCalendarDate(value: unknown): value is string {
  return typeof value === 'string' && dayNumber(value) !== null;
}

/** Parses `value` as a calendar date for input field `field`; throws BAD_USER_INPUT naming it. */
export function parseCalendarDate(field: string, value: unknown): { text: string; day: number } {
  const day = typeof value === 'string' ? dayNumber(value) : null;
  if (day === null) throw badInput(field, 'must be a calendar date YYYY-MM-DD');
  return { text: value as string, day };
}

/** Today's day number in UTC. */
export function todayUtc(now: Date = new Date()): number {
  return Math.floor(now.getTime() / MS_PER_DAY);
}

/** The `YYYY-MM-DD` of a day number. */
export function formatDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}
