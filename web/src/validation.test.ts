/** The client-side checks mirror the server's rules (subgraphs/reservations/src/domain/input.ts). */
import { describe, expect, it } from 'vitest';
import { dayNumber, isoDay, priceOf, rentalDays, todayUtcDay, validateDraft, type ReservationDraft } from './validation.ts';
import { describeError, fieldMessage } from './errors.ts';

const now = new Date('2027-03-01T23:30:00Z');
const today = todayUtcDay(now);
const draft = (over: Partial<ReservationDraft> = {}): ReservationDraft => ({
  itemId: 'i1',
  startDate: isoDay(today + 1),
  endDate: isoDay(today + 4),
  quantity: '2',
  paymentToken: 'tok_approve',
  ...over,
});

describe('validateDraft', () => {
  it('accepts a good draft; price = quantity × dailyRate × days', () => {
    expect(validateDraft(draft(), now)).toEqual({});
    expect(rentalDays(draft().startDate, draft().endDate)).toBe(3);
    expect(priceOf(2, 4500, 3)).toBe(27_000);
  });
  it.each([
    ['end before start', { endDate: isoDay(today) , startDate: isoDay(today + 2) }, 'endDate', 'The end date must be after the start date.'],
    ['end equal to start', { endDate: isoDay(today + 1) }, 'endDate', 'The end date must be after the start date.'],
    ['over 90 days', { endDate: isoDay(today + 92) }, 'endDate', 'A rental lasts at most 90 days.'],
    ['start in the past (UTC)', { startDate: isoDay(today - 1) }, 'startDate', 'The start date cannot be in the past.'],
    ['not a real day', { startDate: '2027-02-30' }, 'startDate', 'Enter a real date, like 2027-03-01.'],
    ['quantity 0', { quantity: '0' }, 'quantity', 'The quantity must be at least 1.'],
    ['quantity 1.5', { quantity: '1.5' }, 'quantity', 'Enter a whole number of at least 1.'],
    ['no item', { itemId: '' }, 'itemId', 'Choose an item.'],
    ['unknown token', { paymentToken: 'tok_x' }, 'paymentToken', 'Choose a payment method.'],
  ])('%s → an error on %s', (_n, over, field, message) => {
    expect(validateDraft(draft(over), now)).toMatchObject({ [field]: message });
  });
  it('exactly 90 days and a start of today are allowed', () => {
    expect(validateDraft(draft({ startDate: isoDay(today), endDate: isoDay(today + 90) }), now)).toEqual({});
  });
  it('no price while it cannot be known', () => {
    expect(priceOf(1, 100, null)).toBeNull();
    expect(priceOf(0, 100, 3)).toBeNull();
    expect(priceOf(1, 100, 91)).toBeNull();
    expect(dayNumber('nope')).toBeNull();
  });
});

describe('describeError', () => {
  it('names the field for BAD_USER_INPUT and strips the "<field>: " prefix', () => {
    const info = { code: 'BAD_USER_INPUT', field: 'endDate', message: 'endDate: must be after startDate' };
    expect(fieldMessage(info)).toBe('must be after startDate');
    expect(describeError(info, 'reserve')).toBe('Check endDate: must be after startDate.');
  });
  it('says "try again" for SERVICE_UNAVAILABLE and TRY_LATER, with the hint when given', () => {
    expect(describeError({ code: 'SERVICE_UNAVAILABLE', message: 'x' }, 'reserve')).toMatch(/try again in a moment/);
    expect(describeError({ code: 'TRY_LATER', message: 'x', retryAfter: 5 }, 'reserve')).toMatch(/Try again in about 5 seconds/);
  });
  it('explains stock and payment failures in sentences', () => {
    expect(describeError({ code: 'INSUFFICIENT_STOCK', message: 'x' })).toMatch(/Not enough of this item/);
    expect(describeError({ code: 'PAYMENT_DECLINED', message: 'x' })).toMatch(/payment was declined/);
  });
});
