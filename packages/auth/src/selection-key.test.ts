/** Subscriptions share an event's result only with the same document, variables and caller. */
import { describe, expect, it } from 'vitest';
import { SelectionKeys } from './selection-key.js';

describe('SelectionKeys', () => {
  const sue = { sub: 'sue', role: 'CUSTOMER' as const };
  it('is equal exactly for the same document object, variables and identity', () => {
    const keys = new SelectionKeys();
    const doc = { kind: 'Document' };
    const same = keys.of(doc, { id: 'r1' }, sue);
    expect(keys.of(doc, { id: 'r1' }, { ...sue })).toBe(same);
    expect(keys.of({ kind: 'Document' }, { id: 'r1' }, sue)).not.toBe(same);
    expect(keys.of(doc, { id: 'r2' }, sue)).not.toBe(same);
    expect(keys.of(doc, { id: 'r1' }, { sub: 'sue', role: 'STAFF', storeId: 'S1' })).not.toBe(same);
    expect(keys.of(doc, { id: 'r1' }, { sub: 'bob', role: 'CUSTOMER' })).not.toBe(same);
    expect(keys.of(doc, undefined, sue)).toBe(keys.of(doc, {}, sue));
  });
});
