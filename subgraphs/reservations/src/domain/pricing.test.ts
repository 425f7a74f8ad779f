import { describe, expect, it } from 'vitest';
import { thrownDomainError } from '@rental/subgraph-server/testing';
import { MAX_AMOUNT, rentalDays, totalPrice } from './pricing.js';

function codeAndField(fn: () => unknown): [string, unknown] {
  const err = thrownDomainError(fn);
  return [err.code, err.details.field];
}

describe('pricing', () => {
  it('charges quantity × dailyRate × days', () => {
    expect(totalPrice(1, 1000, 1)).toBe(1000);
    expect(totalPrice(3, 2500, 7)).toBe(52_500);
    expect(totalPrice(1000, 1, 90)).toBe(90_000);
  });

  it('counts days as endDate − startDate, 1..90', () => {
    expect(rentalDays(100, 101)).toBe(1);
    expect(rentalDays(100, 190)).toBe(90);
    expect(codeAndField(() => rentalDays(100, 100))).toEqual(['BAD_USER_INPUT', 'endDate']);
    expect(codeAndField(() => rentalDays(100, 99))).toEqual(['BAD_USER_INPUT', 'endDate']);
    expect(codeAndField(() => rentalDays(100, 191))).toEqual(['BAD_USER_INPUT', 'endDate']);
  });

  it('refuses an amount that does not fit a GraphQL Int, without overflow', () => {
    expect(totalPrice(1, MAX_AMOUNT, 1)).toBe(MAX_AMOUNT);
    expect(codeAndField(() => totalPrice(1000, 2_000_000, 90))).toEqual(['BAD_USER_INPUT', 'quantity']);
    expect(codeAndField(() => totalPrice(1000, Number.MAX_SAFE_INTEGER, 90))).toEqual(['BAD_USER_INPUT', 'quantity']);
  });

  it('rejects non-integers as a programming error', () => {
    expect(() => totalPrice(1.5, 10, 1)).toThrow(RangeError);
    expect(() => totalPrice(1, -1, 1)).toThrow(RangeError);
  });
});
