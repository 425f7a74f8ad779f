/**
 * Who consumes which event: the "consumers" column of the Events table in
 * docs/ARCHITECTURE.md, as data.
 *
 * There is one BullMQ queue per consuming subgraph (`<subgraph>-events`), not
 * one per event type: a subgraph's worker drains a single queue and
 * dispatches on the job name. Publishing an event adds one job to the queue
 * of every subgraph listed here for its type.
 */
import type { EventType } from './catalog.js';

/** The subgraphs that run an event consumer. */
export const consumingSubgraphs = ['reservations', 'stores', 'rentals'] as const;

/** A subgraph that runs an event consumer. */
export type ConsumingSubgraph = (typeof consumingSubgraphs)[number];

/**
 * Event type → subgraphs that consume it. Typed as a total map, so a new
 * event type does not compile until it is routed; a test checks that no type
 * is routed to nobody.
 */
export const eventRoutes: { readonly [T in EventType]: readonly ConsumingSubgraph[] } = {
  ReservationConfirmed: ['stores', 'reservations'],
  ReservationRejected: ['reservations'],
  ReservationPaymentFailed: ['reservations'],
  ReservationCancelled: ['stores', 'rentals', 'reservations'],
  StoreOrderCreated: ['reservations'],
  StoreOrderPrepared: ['reservations', 'rentals'],
  StoreOrderCancelled: ['reservations'],
  RentalStarted: ['reservations', 'stores'],
  RentalReturned: ['reservations'],
};

/** The queue a subgraph's consumer reads: `reservations-events`, `stores-events`, `rentals-events`. */
export function queueName(subgraph: ConsumingSubgraph): string {
  return `${subgraph}-events`;
}

/** The subgraphs an event of `type` is delivered to. */
export function consumersOf(type: EventType): readonly ConsumingSubgraph[] {
  return eventRoutes[type];
}

/** The event types a subgraph receives; a consumer may handle a subset, the rest complete as no-ops. */
export function eventsFor(subgraph: ConsumingSubgraph): EventType[] {
  return (Object.keys(eventRoutes) as EventType[]).filter((type) => eventRoutes[type].includes(subgraph));
}
