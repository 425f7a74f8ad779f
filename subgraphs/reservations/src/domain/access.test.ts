import { describe, expect, it } from 'vitest';
import { AuthError, type Identity } from '@rental/auth';
import { DomainError } from '@rental/errors';
import { assertCanCancel, assertCanCreate, type ReservationAccessView } from './access.js';
import { RESERVATION_STATUSES } from './status.js';

const r: ReservationAccessView = { customerId: 'carol', storeId: 'store-1', status: 'CONFIRMED' };
const owner: Identity = { sub: 'carol', role: 'CUSTOMER' };
const stranger: Identity = { sub: 'mallory', role: 'CUSTOMER' };
const staff: Identity = { sub: 'sam', role: 'STAFF', storeId: 'store-1' };
const otherStaff: Identity = { sub: 'sid', role: 'STAFF', storeId: 'store-2' };
const admin: Identity = { sub: 'ada', role: 'ADMIN' };
const service: Identity = { sub: 'stores', role: 'SERVICE' };
const anonymous: Identity = { sub: 'anonymous', role: 'ANONYMOUS' };

function code(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof AuthError || err instanceof DomainError) return err.code;
    throw err;
  }
}

describe('access rules', () => {
  it('lets only customers create', () => {
    expect(code(() => assertCanCreate(owner))).toBeUndefined();
    expect(code(() => assertCanCreate(staff))).toBe('FORBIDDEN');
    expect(code(() => assertCanCreate(admin))).toBe('FORBIDDEN');
    expect(code(() => assertCanCreate(anonymous))).toBe('UNAUTHENTICATED');
  });

  it('lets the owner, staff of the store and admins cancel before hand-over', () => {
    for (const who of [owner, staff, admin]) {
      expect(code(() => assertCanCancel(who, r))).toBeUndefined();
      expect(code(() => assertCanCancel(who, { ...r, status: 'READY_FOR_PICKUP' }))).toBeUndefined();
    }
    for (const who of [stranger, otherStaff, service]) expect(code(() => assertCanCancel(who, r))).toBe('FORBIDDEN');
    expect(code(() => assertCanCancel(anonymous, r))).toBe('UNAUTHENTICATED');
  });

  it('refuses to cancel from any other status with INVALID_STATE, after checking who asks', () => {
    for (const status of RESERVATION_STATUSES.filter((s) => s !== 'CONFIRMED' && s !== 'READY_FOR_PICKUP')) {
      expect(code(() => assertCanCancel(owner, { ...r, status }))).toBe('INVALID_STATE');
      expect(code(() => assertCanCancel(stranger, { ...r, status }))).toBe('FORBIDDEN');
    }
  });
});
