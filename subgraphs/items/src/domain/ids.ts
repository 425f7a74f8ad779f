/**
 * Identifier formats. Item ids are MongoDB ObjectIds in 24-digit hex; a
 * string of any other shape cannot name an item, so lookups answer "not
 * found" without asking the database.
 */
const OBJECT_ID_HEX = /^[0-9a-f]{24}$/i;

/** True when `id` has the shape of an item id. */
export function isItemId(id: string): boolean {
  return OBJECT_ID_HEX.test(id);
}
