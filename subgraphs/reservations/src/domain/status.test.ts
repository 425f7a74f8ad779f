import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { RESERVATION_STATUSES, TERMINAL_STATUSES, canTransition, forwardPath, transition, type ReservationStatus } from './status.js';

const LEGAL: Array<[ReservationStatus, ReservationStatus]> = [
  ['PENDING', 'CONFIRMED'],
  ['PENDING', 'REJECTED'],
  ['PENDING', 'PAYMENT_FAILED'],
  ['CONFIRMED', 'READY_FOR_PICKUP'],
  ['CONFIRMED', 'CANCELLED'],
  ['READY_FOR_PICKUP', 'RENTED'],
  ['READY_FOR_PICKUP', 'CANCELLED'],
  ['RENTED', 'RETURNED'],
];

describe('reservation state machine', () => {
  it('allows exactly the moves of docs/ARCHITECTURE.md', () => {
    for (const from of RESERVATION_STATUSES) {
      for (const to of RESERVATION_STATUSES) {
        const legal = LEGAL.some(([f, t]) => f === from && t === to);
        expect(canTransition(from, to), `${from} -> ${to}`).toBe(legal);
      }
    }
  });

  it('transition() returns the step, with its reason', () => {
    expect(transition('PENDING', 'CONFIRMED')).toEqual({ from: 'PENDING', to: 'CONFIRMED' });
    expect(transition('CONFIRMED', 'CANCELLED', 'changed my mind')).toEqual({
      from: 'CONFIRMED',
      to: 'CANCELLED',
      reason: 'changed my mind',
    });
  });

  it.each([
    ['RENTED', 'CANCELLED'],
    ['RETURNED', 'RENTED'],
    ['CANCELLED', 'CONFIRMED'],
    ['PENDING', 'RENTED'],
    ['CONFIRMED', 'PENDING'],
    ['PAYMENT_FAILED', 'CONFIRMED'],
    ['CONFIRMED', 'CONFIRMED'],
  ] as Array<[ReservationStatus, ReservationStatus]>)('refuses %s -> %s with INVALID_STATE', (from, to) => {
    try {
      transition(from, to);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('INVALID_STATE');
    }
  });

  it('knows the terminal statuses', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(['CANCELLED', 'PAYMENT_FAILED', 'REJECTED', 'RETURNED']);
  });

  it('forwardPath gives every implied step, and nothing backwards', () => {
    expect(forwardPath('CONFIRMED', 'READY_FOR_PICKUP')).toEqual([{ from: 'CONFIRMED', to: 'READY_FOR_PICKUP' }]);
    expect(forwardPath('CONFIRMED', 'RENTED')?.map((s) => s.to)).toEqual(['READY_FOR_PICKUP', 'RENTED']);
    expect(forwardPath('READY_FOR_PICKUP', 'RETURNED')?.map((s) => s.to)).toEqual(['RENTED', 'RETURNED']);
    expect(forwardPath('RENTED', 'READY_FOR_PICKUP')).toBeNull();
    expect(forwardPath('RENTED', 'RENTED')).toBeNull();
    expect(forwardPath('CANCELLED', 'RENTED')).toBeNull();
    expect(forwardPath('PENDING', 'READY_FOR_PICKUP')).toBeNull();
  });
});
