/**
 * The customer view (CQRS read model) of one reservation, as a pure function
 * of the events seen: `project(view, event)` answers the next view, or null
 * when the event changes nothing.
 *
 * Why this is idempotent and order-safe without remembering event ids:
 * - every fact is filled in only where it is missing (item, dates, ids…);
 * - the history is a map keyed by status (a reservation passes each status at
 *   most once: the state machine has no cycles); an event adds its status's
 *   entry only when it is absent;
 * - the status is the highest-ranked status in the history
 *   ({@link STATUS_RANK}); store order and rental statuses likewise keep the
 *   higher rank.
 * So a repeated event finds nothing to add, and a late event (a
 * StoreOrderCreated after StoreOrderPrepared, a StoreOrderPrepared after
 * RentalStarted) can still fill in what is missing (the order id, the
 * READY_FOR_PICKUP entry with its real time) but never moves a status back.
 *
 * A view becomes visible to its customer (listed, versioned, pushed) once the
 * customer and the reservation's own facts are known ({@link isComplete}):
 * every event of the reservation itself carries them. Events of stores and
 * rentals that arrive first are kept in the (not yet visible) view and show
 * with the first complete version.
 */
import type { DomainEvent } from '@rental/events';
import type { ReservationStatus } from './status.js';

export const STORE_ORDER_STATUSES = ['PENDING', 'READY', 'HANDED_OVER', 'CANCELLED'] as const;
export type StoreOrderStatus = (typeof STORE_ORDER_STATUSES)[number];
export const RENTAL_STATUSES = ['AWAITING_PICKUP', 'ACTIVE', 'RETURNED'] as const;
export type RentalStatus = (typeof RENTAL_STATUSES)[number];

/**
 * Order of reservation statuses: a status never gives way to a lower one.
 * The outcomes that end a reservation early (CANCELLED, REJECTED,
 * PAYMENT_FAILED) outrank the whole lifecycle: a late StoreOrderPrepared
 * must not revive a cancelled reservation (and rentals refuses a cancel once
 * handed over, so CANCELLED and RENTED never both happen).
 */
export const STATUS_RANK: { readonly [S in ReservationStatus]: number } = {
  PENDING: 0,
  CONFIRMED: 1,
  READY_FOR_PICKUP: 2,
  RENTED: 3,
  RETURNED: 4,
  CANCELLED: 5,
  REJECTED: 5,
  PAYMENT_FAILED: 5,
};

const STORE_ORDER_RANK: { readonly [S in StoreOrderStatus]: number } = { PENDING: 0, READY: 1, HANDED_OVER: 2, CANCELLED: 3 };
const RENTAL_RANK: { readonly [S in RentalStatus]: number } = { AWAITING_PICKUP: 0, ACTIVE: 1, RETURNED: 2 };

export interface ViewHistoryEntry {
  /** ISO 8601. */
  at: string;
  reason: string | null;
}

/** What the events say about one reservation (no bookkeeping). */
export interface ViewFacts {
  reservationId: string;
  customerId: string | null;
  itemId: string | null;
  itemName: string | null;
  storeId: string | null;
  quantity: number | null;
  startDate: string | null;
  endDate: string | null;
  totalPrice: number | null;
  /** When the reservation was created, ISO 8601. */
  createdAt: string | null;
  /** The highest-ranked status of the history; null before any status is known. */
  status: ReservationStatus | null;
  /** Keyed by status; at most one entry per status. */
  history: Partial<Record<ReservationStatus, ViewHistoryEntry>>;
  storeOrder: { id: string | null; status: StoreOrderStatus | null };
  rental: { id: string | null; status: RentalStatus | null };
}

/** An empty view of a reservation no event was seen for yet. */
export function emptyFacts(reservationId: string): ViewFacts {
  return {
    reservationId,
    customerId: null,
    itemId: null,
    itemName: null,
    storeId: null,
    quantity: null,
    startDate: null,
    endDate: null,
    totalPrice: null,
    createdAt: null,
    status: null,
    history: {},
    storeOrder: { id: null, status: null },
    rental: { id: null, status: null },
  };
}

/** Visible to its customer: the customer and the reservation's own facts are known. */
export function isComplete(f: ViewFacts): boolean {
  return (
    f.customerId !== null &&
    f.itemId !== null &&
    f.storeId !== null &&
    f.quantity !== null &&
    f.startDate !== null &&
    f.endDate !== null &&
    f.createdAt !== null &&
    f.status !== null
  );
}

/** History entries oldest first: by lifecycle rank, then time. */
export function historyList(f: Pick<ViewFacts, 'history'>): Array<{ status: ReservationStatus } & ViewHistoryEntry> {
  return (Object.entries(f.history) as Array<[ReservationStatus, ViewHistoryEntry]>)
    .map(([status, e]) => ({ status, at: e.at, reason: e.reason }))
    .sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || a.at.localeCompare(b.at));
}

function fill<T>(current: T | null, value: T | null | undefined): T | null {
  return current !== null && current !== undefined ? current : (value ?? null);
}

function higher<S extends string>(rank: { readonly [K in S]: number }, current: S | null, next: S): S {
  return current !== null && rank[current] >= rank[next] ? current : next;
}

function statusOf(history: ViewFacts['history']): ReservationStatus | null {
  let best: ReservationStatus | null = null;
  for (const s of Object.keys(history) as ReservationStatus[]) {
    if (best === null || STATUS_RANK[s] > STATUS_RANK[best]) best = s;
  }
  return best;
}

/** The same facts with a fixed key order, so two views compare by their JSON. */
function normalize(f: ViewFacts): ViewFacts {
  const history: ViewFacts['history'] = {};
  for (const e of historyList(f)) history[e.status] = { at: e.at, reason: e.reason };
  return {
    reservationId: f.reservationId,
    customerId: f.customerId,
    itemId: f.itemId,
    itemName: f.itemName,
    storeId: f.storeId,
    quantity: f.quantity,
    startDate: f.startDate,
    endDate: f.endDate,
    totalPrice: f.totalPrice,
    createdAt: f.createdAt,
    status: statusOf(history),
    history,
    storeOrder: { id: f.storeOrder.id, status: f.storeOrder.status },
    rental: { id: f.rental.id, status: f.rental.status },
  };
}

/** Reason recorded in the history for the statuses other subgraphs' events bring (as the write model does). */
const REASONS = { READY_FOR_PICKUP: 'store order prepared', RENTED: 'handed over', RETURNED: 'returned' } as const;

interface Details {
  customerId?: string;
  itemId?: string;
  itemName?: string;
  storeId?: string;
  quantity?: number;
  startDate?: string;
  endDate?: string;
  totalPrice?: number | null;
  createdAt?: string;
}

function withDetails(f: ViewFacts, d: Details): void {
  f.customerId = fill(f.customerId, d.customerId);
  f.itemId = fill(f.itemId, d.itemId);
  f.itemName = fill(f.itemName, d.itemName);
  f.storeId = fill(f.storeId, d.storeId);
  f.quantity = fill(f.quantity, d.quantity);
  f.startDate = fill(f.startDate, d.startDate);
  f.endDate = fill(f.endDate, d.endDate);
  f.totalPrice = fill(f.totalPrice, d.totalPrice);
  if (f.createdAt === null && d.createdAt) {
    f.createdAt = new Date(d.createdAt).toISOString();
    // The PENDING moment, as the write model records it.
    f.history.PENDING ??= { at: f.createdAt, reason: null };
  }
}

function enter(f: ViewFacts, status: ReservationStatus, at: string, reason: string | null): void {
  f.history[status] ??= { at: new Date(at).toISOString(), reason };
}

/**
 * The view after `event`, or null when the event changes nothing (repeated,
 * or late with nothing left to fill in). Never mutates `current`.
 */
export function project(current: ViewFacts | null, event: DomainEvent): ViewFacts | null {
  const before = normalize(current ?? emptyFacts(event.correlationId));
  const f: ViewFacts = structuredClone(before);
  const at = event.occurredAt;
  switch (event.type) {
    case 'ReservationConfirmed':
    case 'ReservationRejected':
    case 'ReservationPaymentFailed': {
      // These follow creation at once: their time stands for createdAt when an older producer did not send it.
      withDetails(f, { ...event.payload, createdAt: event.payload.createdAt ?? at });
      const status = event.type === 'ReservationConfirmed' ? 'CONFIRMED' : event.type === 'ReservationRejected' ? 'REJECTED' : 'PAYMENT_FAILED';
      enter(f, status, at, 'reason' in event.payload ? event.payload.reason : null);
      break;
    }
    case 'ReservationCancelled':
      withDetails(f, event.payload);
      enter(f, 'CANCELLED', at, event.payload.reason);
      break;
    case 'StoreOrderCreated':
    case 'StoreOrderPrepared':
    case 'StoreOrderCancelled': {
      if ('storeId' in event.payload) f.storeId = fill(f.storeId, event.payload.storeId);
      f.storeOrder.id = fill(f.storeOrder.id, event.payload.orderId);
      const status = event.type === 'StoreOrderCreated' ? 'PENDING' : event.type === 'StoreOrderPrepared' ? 'READY' : 'CANCELLED';
      f.storeOrder.status = higher(STORE_ORDER_RANK, f.storeOrder.status, status);
      if (event.type === 'StoreOrderPrepared') enter(f, 'READY_FOR_PICKUP', at, REASONS.READY_FOR_PICKUP);
      break;
    }
    case 'RentalStarted':
      f.rental.id = fill(f.rental.id, event.payload.rentalId);
      f.rental.status = higher(RENTAL_RANK, f.rental.status, 'ACTIVE');
      // Stores hands its order over on the same event.
      f.storeOrder.status = higher(STORE_ORDER_RANK, f.storeOrder.status, 'HANDED_OVER');
      enter(f, 'RENTED', at, REASONS.RENTED);
      break;
    case 'RentalReturned':
      f.rental.id = fill(f.rental.id, event.payload.rentalId);
      f.rental.status = higher(RENTAL_RANK, f.rental.status, 'RETURNED');
      f.itemId = fill(f.itemId, event.payload.itemId);
      f.quantity = fill(f.quantity, event.payload.quantity);
      enter(f, 'RETURNED', at, REASONS.RETURNED);
      break;
    default: {
      const never: never = event;
      void never;
      return null;
    }
  }
  const after = normalize(f);
  return JSON.stringify(after) === JSON.stringify(before) ? null : after;
}
