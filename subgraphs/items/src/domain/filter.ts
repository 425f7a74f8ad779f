/**
 * The catalog filter, checked and normalized before it becomes a query.
 * `search` matches item names case-insensitively as a plain substring: the
 * text is escaped, so it can never be a regular expression of the caller's.
 */
import { badInput } from '@rental/errors';

export const MAX_SEARCH_LENGTH = 100;

export interface ItemFilterInput {
  category?: string | null;
  storeId?: string | null;
  search?: string | null;
  inStock?: boolean | null;
}

/** A checked filter; absent fields do not filter. */
export interface ItemFilter {
  category?: string;
  storeId?: string;
  /** Escaped regular-expression source for a case-insensitive name match. */
  namePattern?: string;
  /** true: only items with stock; false: only items without. */
  inStock?: boolean;
}

/** Escapes every regular-expression metacharacter in `text`. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function normalizeFilter(input: ItemFilterInput | null | undefined): ItemFilter {
  const filter: ItemFilter = {};
  if (!input) return filter;
  if (input.category !== undefined && input.category !== null) {
    const category = input.category.trim();
    if (category.length === 0 || category.length > 60) throw badInput('filter.category', 'must have 1 to 60 characters');
    filter.category = category;
  }
  if (input.storeId !== undefined && input.storeId !== null) {
    const storeId = input.storeId.trim();
    if (storeId.length === 0 || storeId.length > 128) throw badInput('filter.storeId', 'must have 1 to 128 characters');
    filter.storeId = storeId;
  }
  if (input.search !== undefined && input.search !== null) {
    const search = input.search.trim();
    if (search.length > MAX_SEARCH_LENGTH) throw badInput('filter.search', `must have at most ${MAX_SEARCH_LENGTH} characters`);
    if (search.length > 0) filter.namePattern = escapeRegExp(search);
  }
  if (input.inStock !== undefined && input.inStock !== null) filter.inStock = input.inStock;
  return filter;
}
