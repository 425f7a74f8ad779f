import { describe, expect, it } from 'vitest';
import { createEvent, type EventHandlers, type HandlerContext } from '@rental/events';
import { createLogger } from '@rental/observability';
import { combineHandlers } from './handlers.js';

describe('combineHandlers', () => {
  it('runs both handlers of a type in order, and keeps the others', async () => {
    const calls: string[] = [];
    const first: EventHandlers = {
      StoreOrderPrepared: async () => void calls.push('first:prepared'),
      RentalStarted: async () => void calls.push('first:started'),
    };
    const second: EventHandlers = {
      StoreOrderPrepared: async () => void calls.push('second:prepared'),
      StoreOrderCreated: async () => void calls.push('second:created'),
    };
    const combined = combineHandlers(first, second);
    const ctx: HandlerContext = { log: createLogger('handlers-test', 'silent'), attempt: 1 };
    const rid = '00000000-0000-4000-8000-000000000001';
    await combined.StoreOrderPrepared!(createEvent('StoreOrderPrepared', { orderId: 'o', reservationId: rid, storeId: 's' }), ctx);
    await combined.RentalStarted!(createEvent('RentalStarted', { rentalId: 'r', reservationId: rid }), ctx);
    await combined.StoreOrderCreated!(createEvent('StoreOrderCreated', { orderId: 'o', reservationId: rid, storeId: 's' }), ctx);
    expect(calls).toEqual(['first:prepared', 'second:prepared', 'first:started', 'second:created']);
    expect(combined.RentalReturned).toBeUndefined();
  });
});
