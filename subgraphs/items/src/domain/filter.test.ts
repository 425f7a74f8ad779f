import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { escapeRegExp, normalizeFilter } from './filter.js';
import { isItemId } from './ids.js';

describe('normalizeFilter', () => {
  it('is empty without input', () => {
    expect(normalizeFilter(undefined)).toEqual({});
    expect(normalizeFilter(null)).toEqual({});
    expect(normalizeFilter({ category: null, storeId: null, search: null, inStock: null })).toEqual({});
  });

  it('trims and keeps the given fields', () => {
    expect(normalizeFilter({ category: ' cameras ', storeId: 's1', search: ' EOS ', inStock: false })).toEqual({
      category: 'cameras',
      storeId: 's1',
      namePattern: 'EOS',
      inStock: false,
    });
  });

  it('escapes the search text so it matches literally', () => {
    const { namePattern } = normalizeFilter({ search: 'a.b*(c)' });
    expect(namePattern).toBe('a\\.b\\*\\(c\\)');
    const re = new RegExp(namePattern!, 'i');
    expect(re.test('xx A.B*(C) yy')).toBe(true);
    expect(re.test('aXbbbc')).toBe(false);
  });

  it('ignores a blank search', () => {
    expect(normalizeFilter({ search: '   ' })).toEqual({});
  });

  it.each([
    ['filter.search', { search: 's'.repeat(101) }],
    ['filter.category', { category: ' ' }],
    ['filter.storeId', { storeId: '' }],
  ])('rejects bad %s', (field, input) => {
    try {
      normalizeFilter(input);
      throw new Error('expected a DomainError');
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).details.field).toBe(field);
    }
  });
});

describe('escapeRegExp', () => {
  it('escapes every metacharacter', () => {
    const text = '.*+?^${}()|[]\\';
    expect(new RegExp(`^${escapeRegExp(text)}$`).test(text)).toBe(true);
  });
});

describe('isItemId', () => {
  it('accepts 24-digit hex only', () => {
    expect(isItemId('65a1b2c3d4e5f60718293a4b')).toBe(true);
    expect(isItemId('65A1B2C3D4E5F60718293A4B')).toBe(true);
    expect(isItemId('xyz')).toBe(false);
    expect(isItemId('123456789012')).toBe(false);
    expect(isItemId('65a1b2c3d4e5f60718293a4b0')).toBe(false);
  });
});
