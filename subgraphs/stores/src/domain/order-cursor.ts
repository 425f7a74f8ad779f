/**
 * The cursor of `storeOrders`: orders are listed newest first (`createdAt`,
 * then `_id`), so a cursor carries the last order's creation time and id.
 * Page size, encoding and the connection are the shared ones
 * (`@rental/subgraph-server/pagination`).
 */
import { decodeCursor, encodeCursor } from '@rental/subgraph-server/pagination';

/** The list name inside `storeOrders` cursors: another list's cursor is refused. */
const STORE_ORDERS = 'storeOrders';

/** Opaque cursor of a listed order. */
export function storeOrderCursor(order: { _id: string; createdAt: Date }): string {
  return encodeCursor(STORE_ORDERS, [new Date(order.createdAt).toISOString(), order._id]);
}

/** True for a time as `toISOString` writes it (the only form a cursor holds). */
function isIsoTime(value: string): boolean {
  const t = Date.parse(value);
  return Number.isFinite(t) && new Date(t).toISOString() === value;
}

/** The position inside `after` (null when none is given); BAD_USER_INPUT on `after` for anything but a `storeOrders` cursor. */
export function storeOrderAfter(after: string | null | undefined): { createdAt: Date; id: string } | null {
  const key = decodeCursor(STORE_ORDERS, after, 2, ([at, id]) => isIsoTime(at!) && id!.length > 0 && id!.length <= 100);
  return key ? { createdAt: new Date(key[0]!), id: key[1]! } : null;
}
