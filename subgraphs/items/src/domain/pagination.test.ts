import { describe, expect, it } from 'vitest';
import { thrownDomainError } from '@rental/subgraph-server/testing';
import { encodeCursor } from '@rental/subgraph-server/pagination';
import { itemAfter, itemCursor } from './pagination.js';

function field(fn: () => unknown): unknown {
  const err = thrownDomainError(fn);
  expect(err.code).toBe('BAD_USER_INPUT');
  return err.details.field;
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
