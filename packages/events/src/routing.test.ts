import { describe, expect, it } from 'vitest';
import { eventTypes } from './catalog.js';
import { consumersOf, consumingSubgraphs, eventRoutes, eventsFor, queueName } from './routing.js';

describe('routing table', () => {
  it('gives every event type at least one consumer and routes nothing unknown', () => {
    expect(Object.keys(eventRoutes).sort()).toEqual([...eventTypes].sort());
    for (const type of eventTypes) {
      expect(consumersOf(type).length, type).toBeGreaterThan(0);
      for (const s of consumersOf(type)) expect(consumingSubgraphs).toContain(s);
    }
  });

  it('matches the consumers column of docs/ARCHITECTURE.md', () => {
    expect(eventsFor('stores').sort()).toEqual(['RentalStarted', 'ReservationCancelled', 'ReservationConfirmed']);
    expect(eventsFor('rentals').sort()).toEqual(['ReservationCancelled', 'StoreOrderPrepared']);
    expect(eventsFor('reservations')).toHaveLength(eventTypes.length);
  });

  it('names one queue per consuming subgraph', () => {
    expect(consumingSubgraphs.map(queueName)).toEqual(['reservations-events', 'stores-events', 'rentals-events']);
  });
});
