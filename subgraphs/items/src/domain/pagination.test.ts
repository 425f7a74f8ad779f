import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { encodeCursor } from '@rental/subgraph-server/pagination';
import { itemAfter, itemCursor } from './pagination.js';

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

describe('catalog cursors', () => {
  const id = '65a1b2c3d4e5f60718293a4b';

  it('round-trips an item id and is opaque', () => {
    const cursor = itemCursor(id);
    expect(cursor).not.toContain(id);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(itemAfter(cursor)).toBe(id);
    expect(itemAfter(itemCursor(id.toUpperCase()))).toBe(id);
  });

  it('no cursor is no position', () => {
    expect(itemAfter(undefined)).toBeUndefined();
    expect(itemAfter(null)).toBeUndefined();
  });

  it.each([
    '',
    'not a cursor!',
    'eHl6',
    Buffer.from(`item:${id}`).toString('base64url'),
    encodeCursor('items', ['xyz']),
    encodeCursor('items', [`${id}x`]),
    encodeCursor('storeOrders', [id]),
    encodeCursor('items', [id, id]),
    'A'.repeat(600),
  ])('rejects %j on field after', (cursor) => {
    expect(field(() => itemAfter(cursor))).toBe('after');
  });
});
