import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { canApply, isFinal, nextStatus, STORE_ORDER_STATUSES, TRANSITIONS, type StoreOrderAction, type StoreOrderStatus } from './store-order.js';

describe('store order state machine', () => {
  it.each<[StoreOrderAction, StoreOrderStatus, StoreOrderStatus]>([
    ['prepare', 'PENDING', 'READY'],
    ['handOver', 'READY', 'HANDED_OVER'],
    ['cancel', 'PENDING', 'CANCELLED'],
    ['cancel', 'READY', 'CANCELLED'],
  ])('%s from %s leads to %s', (action, from, to) => {
    expect(canApply(action, from)).toBe(true);
    expect(nextStatus(action, from)).toBe(to);
  });

  const allowed = new Set(
    (Object.keys(TRANSITIONS) as StoreOrderAction[]).flatMap((a) => TRANSITIONS[a].from.map((s) => `${a}:${s}`)),
  );
  const refused = (Object.keys(TRANSITIONS) as StoreOrderAction[]).flatMap((a) =>
    STORE_ORDER_STATUSES.filter((s) => !allowed.has(`${a}:${s}`)).map((s) => [a, s] as const),
  );

  it.each(refused)('%s from %s is INVALID_STATE', (action, from) => {
    expect(canApply(action, from)).toBe(false);
    try {
      nextStatus(action, from, 'o1');
      throw new Error('expected a DomainError');
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('INVALID_STATE');
      expect((err as DomainError).message).toContain(from);
      expect((err as DomainError).message).toContain('o1');
    }
  });

  it('preparing twice is refused', () => {
    const once = nextStatus('prepare', 'PENDING');
    expect(() => nextStatus('prepare', once)).toThrow(/READY/);
  });

  it('HANDED_OVER and CANCELLED are final', () => {
    expect(STORE_ORDER_STATUSES.filter(isFinal)).toEqual(['HANDED_OVER', 'CANCELLED']);
  });
});
