import { describe, expect, it } from 'vitest';
import { thrownDomainError } from '@rental/subgraph-server/testing';
import { validateCreateStore, type CreateStoreInput } from './store-input.js';
import { isStoreId, storeOrderIdFor } from './ids.js';

function fieldOf(fn: () => unknown): string | undefined {
  const err = thrownDomainError(fn);
  expect(err.code).toBe('BAD_USER_INPUT');
  return err.details.field;
}

describe('validateCreateStore', () => {
  it('trims and keeps a valid input', () => {
    expect(validateCreateStore({ name: '  Downtown ', city: ' Berlin ', address: ' Main St 1 ', id: 'S1' })).toEqual({
      id: 'S1',
      name: 'Downtown',
      city: 'Berlin',
      address: 'Main St 1',
    });
  });

  it('treats a missing or blank address as none and leaves id out when not given', () => {
    expect(validateCreateStore({ name: 'A', city: 'B' })).toEqual({ name: 'A', city: 'B', address: null });
    expect(validateCreateStore({ name: 'A', city: 'B', address: '   ', id: null })).toEqual({ name: 'A', city: 'B', address: null });
  });

  it('accepts the limits', () => {
    const out = validateCreateStore({ name: 'n'.repeat(100), city: 'c'.repeat(100), address: 'a'.repeat(300), id: 'x'.repeat(40) });
    expect(out.name).toHaveLength(100);
  });

  it.each<[string, CreateStoreInput]>([
    ['name', { name: '', city: 'B' }],
    ['name', { name: '   ', city: 'B' }],
    ['name', { name: 'n'.repeat(101), city: 'B' }],
    ['city', { name: 'A', city: '' }],
    ['city', { name: 'A', city: 'c'.repeat(101) }],
    ['address', { name: 'A', city: 'B', address: 'a'.repeat(301) }],
    ['id', { name: 'A', city: 'B', id: '' }],
    ['id', { name: 'A', city: 'B', id: 'a.b' }],
    ['id', { name: 'A', city: 'B', id: '$where' }],
    ['id', { name: 'A', city: 'B', id: 'x'.repeat(41) }],
  ])('rejects bad %s', (field, input) => {
    expect(fieldOf(() => validateCreateStore(input))).toBe(field);
  });
});

describe('ids', () => {
  it('store ids are short and key-safe', () => {
    expect(isStoreId('S1')).toBe(true);
    expect(isStoreId('store_berlin-2')).toBe(true);
    expect(isStoreId('a b')).toBe(false);
  });

  it('a store order id is a stable UUID per reservation', () => {
    const a = storeOrderIdFor('3f1e7c1a-8a55-4a55-9c55-1a2b3c4d5e6f');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(storeOrderIdFor('3f1e7c1a-8a55-4a55-9c55-1a2b3c4d5e6f')).toBe(a);
    expect(storeOrderIdFor('3f1e7c1a-8a55-4a55-9c55-1a2b3c4d5e70')).not.toBe(a);
  });
});
