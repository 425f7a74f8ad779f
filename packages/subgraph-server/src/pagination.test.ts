import { describe, expect, it } from 'vitest';
import { thrownDomainError } from './testing.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  afterInNewestFirst,
  decodeCursor,
  encodeCursor,
  pageOf,
  pageSize,
  toConnection,
} from './pagination.js';

/** The field a BAD_USER_INPUT thrown by `fn` names. */
function field(fn: () => unknown): unknown {
  const err = thrownDomainError(fn);
  expect(err.code).toBe('BAD_USER_INPUT');
  return err.details.field;
}

describe('pageSize', () => {
  it(`defaults to ${DEFAULT_PAGE_SIZE} and accepts 1..${MAX_PAGE_SIZE}`, () => {
    expect(pageSize(undefined)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(null)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(MAX_PAGE_SIZE)).toBe(MAX_PAGE_SIZE);
  });

  it.each([0, -5, MAX_PAGE_SIZE + 1, 1000, 2.5])('refuses %s on field first (no silent cap)', (n) => {
    expect(field(() => pageSize(n))).toBe('first');
  });
});

describe('cursors', () => {
  const key = ['2027-03-01T10:00:00.000Z', 'order-1'];

  it('round-trip a sort key and are opaque', () => {
    const cursor = encodeCursor('storeOrders', key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('order-1');
    expect(decodeCursor('storeOrders', cursor, 2)).toEqual(key);
  });

  it('no cursor is no position', () => {
    expect(decodeCursor('storeOrders', undefined, 2)).toBeNull();
    expect(decodeCursor('storeOrders', null, 2)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'not a cursor!'],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['an object', Buffer.from(JSON.stringify({ id: { $gt: '' } })).toString('base64url')],
    ["another list's", encodeCursor('items', key)],
    ['too few parts', encodeCursor('storeOrders', ['x'])],
    ['too many parts', encodeCursor('storeOrders', [...key, 'x'])],
    ['a non-string part', Buffer.from(JSON.stringify(['storeOrders', 1, 'x'])).toString('base64url')],
    ['too long', 'A'.repeat(600)],
  ])('refuse %s on field after', (_what, cursor) => {
    expect(field(() => decodeCursor('storeOrders', cursor, 2))).toBe('after');
  });

  it('refuse a key the list does not accept', () => {
    const cursor = encodeCursor('storeOrders', key);
    expect(field(() => decodeCursor('storeOrders', cursor, 2, ([at]) => at === 'never'))).toBe('after');
  });
});

describe('pages and connections', () => {
  it('a page is the first `first` rows; one more row means a next page', () => {
    expect(pageOf([1, 2, 3], 2)).toEqual({ rows: [1, 2], hasNextPage: true });
    expect(pageOf([1, 2], 2)).toEqual({ rows: [1, 2], hasNextPage: false });
    expect(pageOf([], 2)).toEqual({ rows: [], hasNextPage: false });
  });

  it('the connection carries each row’s cursor, the last as endCursor, and counts only when asked, once', async () => {
    let counts = 0;
    const count = async () => {
      counts += 1;
      return 7;
    };
    const c = toConnection({ rows: [{ id: 'a' }, { id: 'b' }], hasNextPage: true }, (r) => `c-${r.id}`, (r) => r.id.toUpperCase(), count);
    expect(c.edges).toEqual([
      { cursor: 'c-a', node: 'A' },
      { cursor: 'c-b', node: 'B' },
    ]);
    expect(c.pageInfo).toEqual({ hasNextPage: true, endCursor: 'c-b' });
    expect(counts).toBe(0);
    expect(await c.totalCount()).toBe(7);
    expect(await c.totalCount()).toBe(7);
    expect(counts).toBe(1);

    const empty = toConnection({ rows: [], hasNextPage: false }, String, String, count);
    expect(empty.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });

  it('after (createdAt, id) in newest-first order: older, or as old with a smaller id', () => {
    const at = new Date('2027-03-01T10:00:00.000Z');
    expect(afterInNewestFirst({ createdAt: at, id: 'm' })).toEqual({
      $or: [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: 'm' } }],
    });
  });
});
