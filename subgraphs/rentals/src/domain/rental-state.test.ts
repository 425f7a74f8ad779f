import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import {
  CANCELLABLE_STATES,
  RENTAL_STATES,
  RENTAL_TRANSITIONS,
  canTransition,
  nextState,
  rentalStateAfterCharge,
  startRefusal,
  transition,
  type RentalEvent,
} from './rental-state.js';

describe('rental state machine', () => {
  it('follows the happy path', () => {
    expect(rentalStateAfterCharge('PAID')).toBe('AWAITING_PICKUP');
    expect(transition('AWAITING_PICKUP', 'start')).toBe('ACTIVE');
    expect(transition('ACTIVE', 'return')).toBe('RETURNED');
  });

  it('cancels only before hand-over', () => {
    expect(transition('AWAITING_PICKUP', 'cancel')).toBe('CANCELLED');
    expect(rentalStateAfterCharge('DECLINED')).toBe('CANCELLED');
    expect(rentalStateAfterCharge('FAILED')).toBe('CANCELLED');
    expect(CANCELLABLE_STATES).toEqual(['AWAITING_PICKUP']);
    for (const s of ['ACTIVE', 'RETURNED'] as const) {
      expect(() => transition(s, 'cancel')).toThrow(/already handed over/);
    }
  });

  it('has terminal states', () => {
    const events: RentalEvent[] = ['start', 'return', 'cancel'];
    for (const s of ['RETURNED', 'CANCELLED'] as const) {
      for (const e of events) expect(canTransition(s, e)).toBe(false);
    }
  });

  it('refuses with INVALID_STATE and a clear message', () => {
    const err = (() => {
      try {
        transition('ACTIVE', 'start');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('INVALID_STATE');
    expect((err as DomainError).message).toBe('rental already started');
    expect(() => transition('RETURNED', 'return')).toThrow('rental already returned');
    expect(() => transition('CANCELLED', 'start')).toThrow('rental is cancelled');
    expect(() => transition('AWAITING_PICKUP', 'return')).toThrow('has not started yet');
  });

  it('table only names known states', () => {
    for (const s of RENTAL_STATES) {
      for (const to of Object.values(RENTAL_TRANSITIONS[s])) expect(RENTAL_STATES).toContain(to);
    }
    expect(nextState('ACTIVE', 'cancel')).toBeUndefined();
  });

  it('explains why a hand-over is refused', () => {
    expect(startRefusal({ state: 'AWAITING_PICKUP', readyForPickup: true, paymentStatus: 'PAID' })).toBeUndefined();
    expect(startRefusal({ state: 'AWAITING_PICKUP', readyForPickup: false, paymentStatus: 'PAID' })).toMatch(/not ready for pickup yet/);
    expect(startRefusal({ state: 'ACTIVE', readyForPickup: true, paymentStatus: 'PAID' })).toBe('rental already started');
    expect(startRefusal({ state: 'CANCELLED', readyForPickup: true, paymentStatus: 'REFUNDED' })).toBe('rental is cancelled');
    expect(startRefusal({ state: 'AWAITING_PICKUP', readyForPickup: true, paymentStatus: 'REFUNDED' })).toMatch(/refunded/);
  });
});
