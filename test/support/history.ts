/**
 * Months of business, written straight into a stack's databases (not through
 * the API): `reservations` returned reservations, each as every subgraph
 * keeps it: the reservation (write model), its customer view with its change
 * log, its store order, its rental with the paid payment, and the stock
 * release its return left on items. Growth tests and the benchmark use it:
 * the system must cost the same with this history as without it.
 *
 * The documents are built with each subgraph's own code where it decides
 * their shape (ids derived from the reservation id, the view's projection and
 * change log), and one of each kind is checked against its mongoose schema
 * first, so a change of a schema breaks the seeding loudly, not silently.
 */
import { randomUUID } from 'node:crypto';
import { createEvent, type DomainEvent } from '@rental/events';
import type { Model } from 'mongoose';
import { stockReleaseModel } from '../../subgraphs/items/src/data/item-model.js';
import { rentalModel } from '../../subgraphs/rentals/src/data/rental-model.js';
import { rentalIdFor } from '../../subgraphs/rentals/src/data/rentals-data.js';
import { reservationModel } from '../../subgraphs/reservations/src/data/reservation-model.js';
import { changeOf, viewModels, type ViewDoc } from '../../subgraphs/reservations/src/data/view-data.js';
import type { ViewChange } from '../../subgraphs/reservations/src/domain/view-changes.js';
import { project, type ViewFacts } from '../../subgraphs/reservations/src/domain/customer-view.js';
import { storesModels } from '../../subgraphs/stores/src/data/models.js';
import { storeOrderIdFor } from '../../subgraphs/stores/src/domain/ids.js';
import type { Stack } from './stack.js';

export interface HistoryOptions {
  /** How many returned reservations. */
  reservations: number;
  /** Spread over this many customers (default: one per 10 reservations). */
  customers?: number;
  /** The item and store they were made for. */
  itemId: string;
  storeId: string;
  /** Documents per insert command (default 1000). */
  batch?: number;
}

const DAY = 86_400_000;

interface Docs {
  reservation: Record<string, unknown>;
  view: ViewDoc;
  order: Record<string, unknown>;
  rental: Record<string, unknown>;
  release: Record<string, unknown>;
}

/** The lifecycle of one returned reservation, as its events. */
function lifecycle(rid: string, customerId: string, itemId: string, storeId: string, at: Date): DomainEvent[] {
  const t = (minutes: number) => new Date(at.getTime() + minutes * 60_000);
  const orderId = storeOrderIdFor(rid);
  const rentalId = rentalIdFor(rid);
  const confirmed = createEvent('ReservationConfirmed', {
    reservationId: rid,
    customerId,
    itemId,
    itemName: 'History camera',
    storeId,
    quantity: 1,
    startDate: new Date(at.getTime() + 7 * DAY).toISOString().slice(0, 10),
    endDate: new Date(at.getTime() + 10 * DAY).toISOString().slice(0, 10),
    totalPrice: 7_500,
    createdAt: at.toISOString(),
  }, { occurredAt: t(0) });
  return [
    confirmed,
    createEvent('StoreOrderCreated', { orderId, reservationId: rid, storeId }, { occurredAt: t(1) }),
    createEvent('StoreOrderPrepared', { orderId, reservationId: rid, storeId }, { occurredAt: t(60) }),
    createEvent('RentalStarted', { rentalId, reservationId: rid }, { occurredAt: t(7 * 24 * 60) }),
    createEvent('RentalReturned', { rentalId, reservationId: rid, itemId, quantity: 1 }, { occurredAt: t(10 * 24 * 60) }),
  ];
}

/** The customer view after `events`, projected and logged version by version as the worker does. */
function projectLifecycle(rid: string, events: DomainEvent[], customerId: string, sequences: Map<string, number>): ViewDoc {
  let facts: ViewFacts | null = null;
  let view: ViewDoc | null = null;
  for (const event of events) {
    const next: ViewFacts = project(facts, event)!;
    const sequence = (sequences.get(customerId) ?? 0) + 1;
    sequences.set(customerId, sequence);
    const change: ViewChange = changeOf(view, next, sequence, event.occurredAt);
    const { reservationId: _id, ...rest } = next;
    const version: number = (view ? view.version : 0) + 1;
    const changes: ViewDoc['changes'] = { ...(view ? view.changes : {}), [`v${version}`]: change };
    view = { _id: rid, ...rest, version, sequence, rev: version, updatedAt: event.occurredAt, changes };
    facts = next;
  }
  return view!;
}

function docsOf(i: number, opts: HistoryOptions, customers: number, sequences: Map<string, number>, now: number): Docs {
  const rid = randomUUID();
  const customerId = `history-customer-${i % customers}`;
  // Spread over the past year, oldest first.
  const at = new Date(now - 365 * DAY + Math.floor((i * 365 * DAY) / opts.reservations));
  const events = lifecycle(rid, customerId, opts.itemId, opts.storeId, at);
  const whenOf = (k: number) => new Date(events[k]!.occurredAt);

  // The customer view, projected and logged version by version as the worker does.
  const view = projectLifecycle(rid, events, customerId, sequences);
  const statusTimes: Array<[string, number]> = [['PENDING', 0], ['CONFIRMED', 0], ['READY_FOR_PICKUP', 2], ['RENTED', 3], ['RETURNED', 4]];
  const reservation = {
    _id: rid,
    customerId,
    itemId: opts.itemId,
    itemName: 'History camera',
    storeId: opts.storeId,
    quantity: 1,
    startDate: view.startDate,
    endDate: view.endDate,
    days: 3,
    dailyRate: 2_500,
    totalPrice: 7_500,
    status: 'RETURNED',
    history: statusTimes.map(([status, k]) => ({ status, at: whenOf(k), reason: null })),
    requestId: null,
    settlingSince: null,
    outbox: {},
    outboxCount: 0,
    processedEvents: Object.fromEntries(events.slice(2).map((e) => [e.eventId, true])),
    createdAt: at,
    updatedAt: whenOf(4),
  };
  const order = {
    _id: storeOrderIdFor(rid),
    reservationId: rid,
    storeId: opts.storeId,
    status: 'HANDED_OVER',
    itemId: opts.itemId,
    itemName: 'History camera',
    quantity: 1,
    startDate: view.startDate,
    endDate: view.endDate,
    customerId,
    totalPrice: 7_500,
    preparedAt: whenOf(2),
    handedOverAt: whenOf(3),
    cancelledAt: null,
    history: [
      { status: 'PENDING', at: whenOf(1), reason: 'reservation confirmed' },
      { status: 'READY', at: whenOf(2), reason: null },
      { status: 'HANDED_OVER', at: whenOf(3), reason: 'rental started' },
    ],
    outbox: {},
    outboxCount: 0,
    processedEvents: { [events[0]!.eventId]: true, [events[3]!.eventId]: true },
    createdAt: whenOf(1),
    updatedAt: whenOf(3),
  };
  const rental = {
    _id: rentalIdFor(rid),
    reservationId: rid,
    customerId,
    storeId: opts.storeId,
    itemId: opts.itemId,
    quantity: 1,
    status: 'RETURNED',
    readyForPickup: true,
    readyAt: whenOf(2),
    startedAt: whenOf(3),
    returnedAt: whenOf(4),
    cancelledAt: null,
    payment: {
      id: randomUUID(),
      status: 'PAID',
      amount: 7_500,
      currency: 'EUR',
      reason: null,
      provider: 'sandbox',
      providerRef: `sbx_ch_${rid}`,
      settledAt: at,
      refundRef: null,
      refundedAt: null,
    },
    outbox: {},
    outboxCount: 0,
    processedEvents: { [events[2]!.eventId]: true },
    createdAt: at,
    updatedAt: whenOf(4),
  };
  const release = { _id: `${opts.itemId}:${rid}`, itemId: opts.itemId, reservationId: rid, quantity: 1, at, releasedAt: whenOf(4) };
  return { reservation, view, order, rental, release };
}

/** Throws when `doc` does not fit `model`'s schema (the seeding must write what the service would). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function check(model: Model<any>, doc: unknown, what: string): void {
  const error = new model(doc).validateSync();
  if (error) throw new Error(`seedHistory: the ${what} no longer fits its schema: ${error.message}`);
}

/** Writes the history; see the module comment. */
export async function seedHistory(stack: Pick<Stack, 'db'>, opts: HistoryOptions): Promise<void> {
  const [items, reservations, stores, rentals] = await Promise.all((['items', 'reservations', 'stores', 'rentals'] as const).map((s) => stack.db(s)));
  const targets: Array<{ model: Model<unknown>; pick: (d: Docs) => unknown; what: string }> = [
    { model: reservationModel(reservations!) as unknown as Model<unknown>, pick: (d) => d.reservation, what: 'reservation' },
    { model: viewModels(reservations!).views as unknown as Model<unknown>, pick: (d) => d.view, what: 'customer view' },
    { model: storesModels(stores!).StoreOrder as unknown as Model<unknown>, pick: (d) => d.order, what: 'store order' },
    { model: rentalModel(rentals!) as unknown as Model<unknown>, pick: (d) => d.rental, what: 'rental' },
    { model: stockReleaseModel(items!) as unknown as Model<unknown>, pick: (d) => d.release, what: 'stock release' },
  ];
  await Promise.all(targets.map((t) => t.model.init()));
  const customers = opts.customers ?? Math.max(1, Math.ceil(opts.reservations / 10));
  const sequences = new Map<string, number>();
  const now = Date.now();
  const batch = opts.batch ?? 1_000;
  // The next batch is built while the last one is written (the database tier and this process overlap).
  let writing: Promise<unknown> = Promise.resolve();
  for (let start = 0; start < opts.reservations; start += batch) {
    const docs = Array.from({ length: Math.min(batch, opts.reservations - start) }, (_, k) => docsOf(start + k, opts, customers, sequences, now));
    if (start === 0) for (const t of targets) check(t.model, t.pick(docs[0]!), t.what);
    await writing;
    writing = Promise.all(targets.map((t) => t.model.collection.insertMany(docs.map(t.pick) as never[], { ordered: false })));
  }
  await writing;
}
