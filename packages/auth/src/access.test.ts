/**
 * The one table of who may see a reservation (and its store order and
 * rental) and who may act for a store: every role, as the reservation's own
 * customer or another, with the reservation's own store or another.
 */
import { describe, expect, it } from 'vitest';
import { AuthError, mayActForStore, mayViewReservation, requireStoreAccess, type Identity, type Role } from './index.js';

/** Carol's reservation at store S1. */
const reservation = { customerId: 'carol', storeId: 'S1' };

/** An identity of `role` whose `sub` is the reservation's customer or not and whose `storeId` is its store or not. */
function who(role: Role, customer: 'own' | 'other', store: 'own' | 'other'): Identity {
  return { sub: customer === 'own' ? 'carol' : 'dave', role, storeId: store === 'own' ? 'S1' : 'S2' };
}

// [role, customer, store, may view the reservation, may act for its store]
const TABLE: Array<[Role, 'own' | 'other', 'own' | 'other', boolean, boolean]> = [
  ['CUSTOMER', 'own', 'own', true, false],
  ['CUSTOMER', 'own', 'other', true, false],
  ['CUSTOMER', 'other', 'own', false, false],
  ['CUSTOMER', 'other', 'other', false, false],
  ['STAFF', 'own', 'own', true, true],
  ['STAFF', 'own', 'other', false, false],
  ['STAFF', 'other', 'own', true, true],
  ['STAFF', 'other', 'other', false, false],
  ['ADMIN', 'own', 'own', true, true],
  ['ADMIN', 'own', 'other', true, true],
  ['ADMIN', 'other', 'own', true, true],
  ['ADMIN', 'other', 'other', true, true],
  ['SERVICE', 'own', 'own', false, false],
  ['SERVICE', 'own', 'other', false, false],
  ['SERVICE', 'other', 'own', false, false],
  ['SERVICE', 'other', 'other', false, false],
  ['ANONYMOUS', 'own', 'own', false, false],
  ['ANONYMOUS', 'own', 'other', false, false],
  ['ANONYMOUS', 'other', 'own', false, false],
  ['ANONYMOUS', 'other', 'other', false, false],
];

describe('mayViewReservation and mayActForStore', () => {
  it.each(TABLE)('%s, %s customer, %s store: view %s, act for the store %s', (role, customer, store, view, act) => {
    const identity = who(role, customer, store);
    expect(mayViewReservation(identity, reservation)).toBe(view);
    expect(mayActForStore(identity, reservation.storeId)).toBe(act);
  });

  it('a STAFF identity without a store sees nothing, even a reservation without a store', () => {
    const storeless: Identity = { sub: 'sam', role: 'STAFF' };
    expect(mayViewReservation(storeless, reservation)).toBe(false);
    expect(mayViewReservation(storeless, { customerId: 'carol', storeId: null })).toBe(false);
    expect(mayActForStore(storeless, null)).toBe(false);
  });

  it('parties not known yet (a view before its first event) are nobody\'s but an admin\'s', () => {
    const unknown = { customerId: null, storeId: null };
    expect(mayViewReservation({ sub: 'carol', role: 'CUSTOMER' }, unknown)).toBe(false);
    expect(mayViewReservation({ sub: 'sam', role: 'STAFF', storeId: 'S1' }, unknown)).toBe(false);
    expect(mayViewReservation({ sub: 'ada', role: 'ADMIN' }, unknown)).toBe(true);
  });
});

describe('requireStoreAccess', () => {
  function code(identity: Identity): string | undefined {
    try {
      requireStoreAccess(identity, 'S1');
      return undefined;
    } catch (err) {
      if (err instanceof AuthError) return err.code;
      throw err;
    }
  }

  it('lets STAFF of the store and ADMIN through; anonymous is UNAUTHENTICATED, everyone else FORBIDDEN', () => {
    expect(code(who('STAFF', 'other', 'own'))).toBeUndefined();
    expect(code(who('ADMIN', 'other', 'other'))).toBeUndefined();
    expect(code(who('STAFF', 'other', 'other'))).toBe('FORBIDDEN');
    expect(code(who('CUSTOMER', 'own', 'own'))).toBe('FORBIDDEN');
    expect(code(who('SERVICE', 'own', 'own'))).toBe('FORBIDDEN');
    expect(code(who('ANONYMOUS', 'own', 'own'))).toBe('UNAUTHENTICATED');
  });
});
