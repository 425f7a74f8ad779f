import { describe, expect, it } from 'vitest';
import { thrownDomainError } from '@rental/subgraph-server/testing';
import { dayNumber, formatDay, isCalendarDate, todayUtc } from './dates.js';
import { validateCreateReservation, validateReason, type CreateReservationInput } from './input.js';

const NOW = new Date('2027-03-01T23:59:59Z');
const ok: CreateReservationInput = {
  itemId: 'item-1',
  quantity: 2,
  startDate: '2027-03-01',
  endDate: '2027-03-04',
  paymentToken: 'tok_approve',
};

function codeAndField(fn: () => unknown): [string, unknown] {
  const err = thrownDomainError(fn);
  return [err.code, err.details.field];
}

describe('calendar dates', () => {
  it.each(['2027-03-01', '2028-02-29', '2000-02-29', '1999-12-31'])('accepts %s', (d) => {
    expect(isCalendarDate(d)).toBe(true);
    expect(formatDay(dayNumber(d)!)).toBe(d);
  });

  it.each(['2027-02-29', '1900-02-29', '2027-13-01', '2027-00-10', '2027-04-31', '2027-3-1', '2027-03-01T00:00:00Z', ' 2027-03-01', '20270301', '', '0000-01-01'])(
    'refuses %j',
    (d) => {
      expect(isCalendarDate(d)).toBe(false);
    },
  );

  it('counts days in UTC', () => {
    expect(dayNumber('2027-03-01')! - dayNumber('2027-02-28')!).toBe(1);
    expect(dayNumber('2028-03-01')! - dayNumber('2028-02-28')!).toBe(2);
    expect(todayUtc(NOW)).toBe(dayNumber('2027-03-01'));
  });
});

describe('createReservation input', () => {
  it('accepts a valid request, today included, and counts the days', () => {
    expect(validateCreateReservation(ok, NOW)).toEqual({ ...ok, days: 3 });
  });

  it('allows up to 90 days', () => {
    expect(validateCreateReservation({ ...ok, endDate: '2027-05-30' }, NOW).days).toBe(90);
  });

  it.each<[string, Partial<CreateReservationInput>, string]>([
    ['quantity 0', { quantity: 0 }, 'quantity'],
    ['quantity negative', { quantity: -3 }, 'quantity'],
    ['quantity fractional', { quantity: 1.5 }, 'quantity'],
    ['quantity over 1000', { quantity: 1001 }, 'quantity'],
    ['empty item id', { itemId: '  ' }, 'itemId'],
    ['start in the past', { startDate: '2027-02-28' }, 'startDate'],
    ['start not a date', { startDate: '2027-02-30' }, 'startDate'],
    ['start with a time', { startDate: '2027-03-01T10:00:00Z' }, 'startDate'],
    ['end not a date', { endDate: 'tomorrow' }, 'endDate'],
    ['end equal to start', { endDate: '2027-03-01' }, 'endDate'],
    ['end before start', { endDate: '2027-02-20', startDate: '2027-03-05' }, 'endDate'],
    ['over 90 days', { endDate: '2027-05-31' }, 'endDate'],
    ['empty token', { paymentToken: '' }, 'paymentToken'],
    ['long token', { paymentToken: 'x'.repeat(101) }, 'paymentToken'],
  ])('refuses %s', (_name, patch, field) => {
    expect(codeAndField(() => validateCreateReservation({ ...ok, ...patch }, NOW))).toEqual(['BAD_USER_INPUT', field]);
  });
});

describe('cancel reason', () => {
  it('is optional, trimmed, at most 500 characters', () => {
    expect(validateReason(undefined)).toBeUndefined();
    expect(validateReason(null)).toBeUndefined();
    expect(validateReason('   ')).toBeUndefined();
    expect(validateReason(' plans changed ')).toBe('plans changed');
    expect(validateReason('x'.repeat(500))).toHaveLength(500);
    expect(codeAndField(() => validateReason('x'.repeat(501)))).toEqual(['BAD_USER_INPUT', 'reason']);
  });
});
