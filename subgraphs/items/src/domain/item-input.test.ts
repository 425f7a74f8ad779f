import { describe, expect, it } from 'vitest';
import { thrownDomainError } from '@rental/subgraph-server/testing';
import { validateRegisterItem, type RegisterItemInput } from './item-input.js';

const valid: RegisterItemInput = {
  storeId: 'store-1',
  name: '  Canon EOS R6  ',
  description: 'Full-frame mirrorless camera',
  category: 'cameras',
  dailyRate: 4500,
  stock: 3,
};

function fieldOf(fn: () => unknown): string | undefined {
  const err = thrownDomainError(fn);
  expect(err.code).toBe('BAD_USER_INPUT');
  expect(err.message).toMatch(new RegExp(`^${err.details.field}: `));
  return err.details.field;
}

describe('validateRegisterItem', () => {
  it('accepts and trims a valid item', () => {
    expect(validateRegisterItem(valid)).toEqual({
      storeId: 'store-1',
      name: 'Canon EOS R6',
      description: 'Full-frame mirrorless camera',
      category: 'cameras',
      dailyRate: 4500,
      stock: 3,
    });
  });

  it('treats a missing or blank description as none', () => {
    expect(validateRegisterItem({ ...valid, description: undefined }).description).toBeNull();
    expect(validateRegisterItem({ ...valid, description: null }).description).toBeNull();
    expect(validateRegisterItem({ ...valid, description: '   ' }).description).toBeNull();
  });

  it('accepts the boundaries', () => {
    const item = validateRegisterItem({
      ...valid,
      name: 'n'.repeat(200),
      category: 'c'.repeat(60),
      description: 'd'.repeat(2000),
      dailyRate: 10_000_000,
      stock: 1_000_000,
    });
    expect(item.name).toHaveLength(200);
    expect(validateRegisterItem({ ...valid, dailyRate: 1, stock: 0 })).toMatchObject({ dailyRate: 1, stock: 0 });
  });

  it.each([
    ['name', { name: '' }],
    ['name', { name: '   ' }],
    ['name', { name: 'n'.repeat(201) }],
    ['category', { category: '' }],
    ['category', { category: 'c'.repeat(61) }],
    ['description', { description: 'd'.repeat(2001) }],
    ['dailyRate', { dailyRate: 0 }],
    ['dailyRate', { dailyRate: -100 }],
    ['dailyRate', { dailyRate: 12.5 }],
    ['dailyRate', { dailyRate: 10_000_001 }],
    ['dailyRate', { dailyRate: Number.NaN }],
    ['stock', { stock: -1 }],
    ['stock', { stock: 0.5 }],
    ['stock', { stock: 1_000_001 }],
    ['storeId', { storeId: '' }],
    ['storeId', { storeId: '  ' }],
  ] as Array<[string, Partial<RegisterItemInput>]>)('rejects bad %s %j', (field, patch) => {
    expect(fieldOf(() => validateRegisterItem({ ...valid, ...patch }))).toBe(field);
  });

  it('checks name before later fields', () => {
    expect(fieldOf(() => validateRegisterItem({ ...valid, name: '', stock: -1 }))).toBe('name');
  });
});
