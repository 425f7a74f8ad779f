/**
 * Cursor pagination of the catalog. Items are listed in `_id` order (stable,
 * and new items come last); a cursor is the opaque, base64url-encoded sort key
 * of the last item seen.
 */
import { badInput } from '@rental/errors';
import { isItemId } from './ids.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
const CURSOR_PREFIX = 'item:';

/** Opaque cursor for the item with id `id`. */
export function encodeCursor(id: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`, 'utf8').toString('base64url');
}

/** The item id inside a cursor; throws BAD_USER_INPUT on `after` for anything else. */
export function decodeCursor(cursor: string): string {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 64 || !/^[A-Za-z0-9_-]+={0,2}$/.test(cursor)) {
    throw badInput('after', 'is not a valid cursor');
  }
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : '';
  if (!isItemId(id)) throw badInput('after', 'is not a valid cursor');
  return id.toLowerCase();
}

/** Page size: `first` if given, else the default; throws BAD_USER_INPUT on `first` outside 1..MAX_PAGE_SIZE. */
export function pageSize(first: number | null | undefined): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return first;
}
