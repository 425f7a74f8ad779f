/**
 * Cursor pagination of the connection fields (`items`, `myReservations`,
 * `storeOrders`), written once: the page size rule, the opaque cursor, the
 * page read with one extra row, the newest-first keyset, and the connection
 * object GraphQL answers (`edges { cursor node }`, `pageInfo`, `totalCount`).
 *
 * A list reads `first + 1` rows in a total order (its sort key ends in `_id`)
 * from just after the cursor's row; the extra row only says whether there is
 * a next page. A cursor is base64url of the JSON array `[list, ...sortKey]`:
 * opaque to clients, and refused by any list but its own.
 *
 * Imported as `@rental/subgraph-server/pagination`, so domain and data
 * modules get it without loading the server.
 */
import { badInput } from '@rental/errors';

/** Page size when `first` is not given. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest `first` a connection accepts: a bigger page is refused, never cut short. */
export const MAX_PAGE_SIZE = 100;

/** Longest cursor decoded: a cursor holds a list name and a short sort key. */
const MAX_CURSOR_LENGTH = 512;

/** The page size: `first` if given, else {@link DEFAULT_PAGE_SIZE}; BAD_USER_INPUT on `first` outside 1..{@link MAX_PAGE_SIZE}. */
export function pageSize(first: number | null | undefined): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return first;
}

/** The opaque cursor of the row with sort key `key` in the list named `list`. */
export function encodeCursor(list: string, key: readonly string[]): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

/**
 * The sort key inside `after`, or null when no cursor was given. Anything but
 * a cursor of `list` with `arity` key parts that `accept` approves (when
 * given) is BAD_USER_INPUT on `after`.
 */
export function decodeCursor(
  list: string,
  after: string | null | undefined,
  arity: number,
  accept: (key: string[]) => boolean = () => true,
): string[] | null {
  if (after === undefined || after === null) return null;
  const invalid = () => badInput('after', 'is not a cursor of this list');
  if (typeof after !== 'string' || after.length === 0 || after.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+={0,2}$/.test(after)) {
    throw invalid();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== arity + 1 || parsed[0] !== list || !parsed.every((p) => typeof p === 'string')) {
    throw invalid();
  }
  const key = parsed.slice(1);
  if (!accept(key)) throw invalid();
  return key;
}

/** One page of a list read with `limit(first + 1)`. */
export interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
}

/** The page in `fetched` (read with `limit(first + 1)`): the first `first` rows; a row beyond them means a next page. */
export function pageOf<T>(fetched: T[], first: number): Page<T> {
  return { rows: fetched.slice(0, first), hasNextPage: fetched.length > first };
}

/** Sort of a newest-first list: `createdAt`, then `_id`, both descending (a total order; back it with an index ending in these two). */
export const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

/**
 * The filter for the rows after `last` in {@link NEWEST_FIRST} order: older,
 * or as old with a smaller `_id`. `createdAt` must have the stored type (a
 * `Date` against dates, a string against strings).
 */
export function afterInNewestFirst(last: { createdAt: Date | string; id: string }) {
  return { $or: [{ createdAt: { $lt: last.createdAt } }, { createdAt: last.createdAt, _id: { $lt: last.id } }] };
}

/** What a connection field answers. `totalCount` is a function, so GraphQL runs the count only when it is selected. */
export interface Connection<N> {
  edges: Array<{ cursor: string; node: N }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: () => Promise<number>;
}

/** The connection of `page`: each row's cursor (`cursorOf`) and node (`nodeOf`); `count` counts the whole filtered list. */
export function toConnection<T, N>(
  page: Page<T>,
  cursorOf: (row: T) => string,
  nodeOf: (row: T) => N,
  count: () => Promise<number>,
): Connection<N> {
  const edges = page.rows.map((row) => ({ cursor: cursorOf(row), node: nodeOf(row) }));
  let counted: Promise<number> | undefined;
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    // Once per answer, however often (aliases) it is selected.
    totalCount: () => (counted ??= count()),
  };
}
