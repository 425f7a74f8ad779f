/**
 * The catalog's cursor: items are listed in `_id` order (stable, and new
 * items come last), so a cursor carries the id of the last item seen. Page
 * size, encoding and the connection are the shared ones
 * (`@rental/subgraph-server/pagination`).
 */
import { decodeCursor, encodeCursor } from '@rental/subgraph-server/pagination';
import { isItemId } from './ids.js';

/** The list name inside the catalog's cursors: another list's cursor is refused. */
const CATALOG = 'items';

/** Opaque cursor of the item with id `id`. */
export function itemCursor(id: string): string {
  return encodeCursor(CATALOG, [id]);
}

/** The item id inside `after` (undefined when none is given); BAD_USER_INPUT on `after` for anything but a catalog cursor. */
export function itemAfter(after: string | null | undefined): string | undefined {
  const key = decodeCursor(CATALOG, after, 1, ([id]) => isItemId(id!));
  return key ? key[0]!.toLowerCase() : undefined;
}
