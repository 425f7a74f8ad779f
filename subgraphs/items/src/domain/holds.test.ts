import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { thrownDomainError } from '@rental/subgraph-server/testing';
import { holdConflict, insufficientStock, normalizeReservationId, validateHoldQuantity } from './holds.js';

function codeAndField(fn: () => unknown): [string, unknown] {
  const err = thrownDomainError(fn);
  return [err.code, err.details.field];
}

describe('normalizeReservationId', () => {
  it('accepts UUIDs and ObjectId hex, lower-cased', () => {
    const uuid = randomUUID();
    expect(normalizeReservationId(uuid)).toBe(uuid);
    expect(normalizeReservationId(uuid.toUpperCase())).toBe(uuid);
    expect(normalizeReservationId('65A1B2C3D4E5F60718293A4B')).toBe('65a1b2c3d4e5f60718293a4b');
  });

  it.each(['', 'abc', 'holds.x', '$where', 'a.b-c', '65a1b2c3d4e5f60718293a4', `${randomUUID()}.x`, 'zz'.repeat(12)])(
    'rejects %j',
    (id) => {
      expect(codeAndField(() => normalizeReservationId(id))).toEqual(['BAD_USER_INPUT', 'reservationId']);
    },
  );
});

describe('validateHoldQuantity', () => {
  it('accepts 1..1000', () => {
    expect(validateHoldQuantity(1)).toBe(1);
    expect(validateHoldQuantity(1000)).toBe(1000);
  });

  it.each([0, -1, 1001, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %s', (q) => {
    expect(codeAndField(() => validateHoldQuantity(q))).toEqual(['BAD_USER_INPUT', 'quantity']);
  });
});

describe('hold errors', () => {
  it('INSUFFICIENT_STOCK says what is available', () => {
    const err = insufficientStock('i1', 5, 2);
    expect(err.code).toBe('INSUFFICIENT_STOCK');
    expect(err.message).toContain('2 unit(s)');
    expect(err.details).toMatchObject({ itemId: 'i1', requested: 5, available: 2 });
  });

  it('a conflicting repeat says how much the reservation holds', () => {
    const err = holdConflict('r1', 'i1', 3, 4);
    expect(err.code).toBe('INVALID_STATE');
    expect(err.message).toContain('already holds 3');
    expect(err.details).toMatchObject({ heldQuantity: 3, field: 'quantity' });
  });
});
