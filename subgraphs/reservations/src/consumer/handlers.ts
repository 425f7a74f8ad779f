/**
 * What the reservations consumer does with each event of its queue
 * (`reservations-events`). Progress of a confirmed reservation comes from the
 * other subgraphs' events:
 *
 * | event              | effect                                              |
 * |--------------------|-----------------------------------------------------|
 * | StoreOrderPrepared | CONFIRMED → READY_FOR_PICKUP                        |
 * | RentalStarted      | → RENTED (from READY_FOR_PICKUP)                    |
 * | RentalReturned     | items.releaseStock, then → RETURNED (from RENTED)   |
 * | ReservationCancelled (own) | items.releaseStock (safety net of the cancel) |
 *
 * Each status change is one conditional update from the status read, guarded
 * by `notProcessed(eventId)` and recording `markProcessed(eventId)`: a repeated
 * event changes nothing, and an event for a status already passed (late) is
 * acknowledged without effect, so nothing ever moves back. Events of one
 * reservation may be handled out of order (separate queues, retries): an event
 * whose status lies further along the lifecycle applies the implied steps too
 * (e.g. RentalStarted seen while still CONFIRMED records READY_FOR_PICKUP and
 * RENTED), so the later StoreOrderPrepared finds nothing to do.
 *
 * Every event routed here also feeds the customer view: the worker combines
 * this table with the view projector's (`view/projector.ts`), which runs
 * after these handlers.
 */
import {
  hasProcessed,
  markProcessed,
  notProcessed,
  type EventHandler,
  type EventHandlers,
  type EventOf,
  type EventType,
  type HandlerContext,
} from '@rental/events';
import { forwardPath, type ReservationStatus } from '../domain/index.js';
import type { ReservationsData } from '../data/index.js';
import type { ItemsClient } from '../saga/items-client.js';

export interface HandlerDeps {
  data: ReservationsData;
  items: ItemsClient;
}

/** Reason recorded in the history for the status an event brings. */
const REASONS: Partial<Record<ReservationStatus, string>> = {
  READY_FOR_PICKUP: 'store order prepared',
  RENTED: 'handed over',
  RETURNED: 'returned',
};

/**
 * Moves the reservation of `event` forward to `target`, once per event.
 * Resolves whether it changed anything.
 */
export async function advance(
  data: ReservationsData,
  event: EventOf<EventType>,
  target: ReservationStatus,
  { log }: HandlerContext,
): Promise<boolean> {
  const id = event.correlationId;
  // A concurrent change (a cancel, another event) makes the conditional update miss: read again and retry.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const doc = await data.findById(id);
    if (!doc) {
      log.warn({ reservationId: id }, 'event for an unknown reservation; ignored');
      return false;
    }
    if (hasProcessed(doc, event.eventId)) return false;
    const steps = forwardPath(doc.status, target);
    if (!steps) {
      log.info({ reservationId: id, status: doc.status, target }, 'event changes nothing (late, repeated or after a cancel)');
      return false;
    }
    const reasoned = steps.map((s) =>
      s.to === target ? { ...s, reason: REASONS[s.to] ?? event.type } : { ...s, reason: `${REASONS[s.to] ?? s.to} (implied by ${event.type})` },
    );
    const moved = await data.move(id, reasoned, {
      filter: notProcessed(event.eventId),
      set: markProcessed(event.eventId),
    });
    if (moved) {
      log.info({ reservationId: id, from: doc.status, to: target }, 'reservation advanced');
      return true;
    }
  }
  throw new Error(`reservation ${id} kept changing; retrying the event later`);
}

/**
 * Merges handler tables: where both have a handler for a type, `first` runs,
 * then `second` (e.g. the write model's progress, then the customer view's
 * projector). A failure of either fails the job, which is retried whole; both
 * must therefore be idempotent, as every handler here is.
 */
export function combineHandlers(first: EventHandlers, second: EventHandlers): EventHandlers {
  const combined: Record<string, EventHandler<EventType>> = {};
  const types = new Set([...Object.keys(first), ...Object.keys(second)]) as Set<EventType>;
  for (const type of types) {
    const a = first[type] as EventHandler<EventType> | undefined;
    const b = second[type] as EventHandler<EventType> | undefined;
    combined[type] =
      a && b
        ? async (event, ctx) => {
            await a(event, ctx);
            await b(event, ctx);
          }
        : (a ?? b)!;
  }
  return combined;
}

/** The handler table of the reservations consumer. */
export function reservationHandlers(deps: HandlerDeps): EventHandlers {
  const { data, items } = deps;
  return {
    StoreOrderPrepared: async (event, ctx) => {
      await advance(data, event, 'READY_FOR_PICKUP', ctx);
    },
    RentalStarted: async (event, ctx) => {
      await advance(data, event, 'RENTED', ctx);
    },
    RentalReturned: async (event, ctx) => {
      // Stock first: once RETURNED is recorded, the stock is back. Idempotent per reservation.
      await items.releaseStock(event.payload.reservationId, event.payload.itemId, { requestId: event.requestId });
      await advance(data, event, 'RETURNED', ctx);
    },
    ReservationCancelled: async (event, { log }) => {
      const doc = await data.findById(event.payload.reservationId);
      if (!doc) {
        log.warn({ reservationId: event.payload.reservationId }, 'cancel event for an unknown reservation; ignored');
        return;
      }
      // The cancel released the stock already, unless items was unreachable then; releasing twice changes nothing.
      await items.releaseStock(doc._id, doc.itemId, { requestId: event.requestId });
    },
  };
}
