import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, pageSize } from './pagination.js';

function field(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('BAD_USER_INPUT');
    return (err as DomainError).details.field;
  }
  throw new Error('expected a DomainError');
}

describe('cursors', () => {
  const id = '65a1b2c3d4e5f60718293a4b';

  it('round-trips an item id and is opaque', () => {
    const cursor = encodeCursor(id);
    expect(cursor).not.toContain(id);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toBe(id);
  });

  it.each([
    '',
    'not a cursor!',
    'eHl6',
    Buffer.from(`item:xyz`).toString('base64url'),
    Buffer.from(`store:${id}`).toString('base64url'),
    Buffer.from(`item:${id}x`).toString('base64url'),
    'A'.repeat(200),
  ])('rejects %j on field after', (cursor) => {
    expect(field(() => decodeCursor(cursor))).toBe('after');
  });
});

describe('pageSize', () => {
  it('defaults and accepts 1..100', () => {
    expect(pageSize(undefined)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(null)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(100)).toBe(100);
  });

  it.each([0, -5, 101, 2.5])('rejects %s on field first', (n) => {
    expect(field(() => pageSize(n))).toBe('first');
  });
});
