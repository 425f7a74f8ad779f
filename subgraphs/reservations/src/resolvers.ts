/**
 * Resolvers: who may do it (domain access rules), then the saga or the data.
 * The reservation document (write model) and the customer view (read model)
 * are both mapped to the API shape here: `reservation(id)` and the mutations
 * answer from the write model, `myReservations` and `reservationStatus` from
 * the view, so the customer page needs no write-model read.
 */
import { AuthError, mayViewReservation, requireRole } from '@rental/auth';
import { badInput, notFound } from '@rental/errors';
import { pageSize, toConnection } from '@rental/subgraph-server/pagination';
import {
  assertCanCreate,
  assertCanView,
  historyList,
  isReservationStatus,
  validateCreateReservation,
  validateReservationId,
  type ViewFacts,
} from './domain/index.js';
import { viewAfter, viewCursor, type ReservationDoc, type ViewDoc, type ViewSnapshot } from './data/index.js';
import type { ReservationsContext } from './context.js';
import type { Resolvers, SubscriptionReservationStatusArgs } from './generated/graphql.js';
import { DateScalar } from './date-scalar.js';
import { customerChannel, reservationChannel } from './view/feed.js';
import { UpdateStream } from './view/subscription.js';

/** The customer view's own fields of a reservation. */
interface ViewFields {
  version: number;
  storeOrderId: string | null;
  storeOrderStatus: string | null;
  rentalId: string | null;
  rentalStatus: string | null;
}

/** A reservation as the API shows it. */
export interface ReservationView {
  id: string;
  customerId: string;
  status: ReservationDoc['status'];
  quantity: number;
  startDate: string;
  endDate: string;
  totalPrice: number | null;
  item: { __typename: 'Item'; id: string };
  storeId: string;
  history: Array<{ status: ReservationDoc['status']; at: string; reason: string | null }>;
  createdAt: string;
  itemName: string | null;
  /** Present when built from the customer view; read from it on demand otherwise. */
  view?: ViewFields;
}

export function toView(doc: ReservationDoc): ReservationView {
  return {
    id: doc._id,
    customerId: doc.customerId,
    status: doc.status,
    quantity: doc.quantity,
    startDate: doc.startDate,
    endDate: doc.endDate,
    totalPrice: doc.totalPrice ?? null,
    item: { __typename: 'Item', id: doc.itemId },
    storeId: doc.storeId,
    history: (doc.history ?? []).map((h) => ({ status: h.status, at: new Date(h.at).toISOString(), reason: h.reason ?? null })),
    createdAt: new Date(doc.createdAt).toISOString(),
    itemName: doc.itemName ?? null,
  };
}

function viewFields(v: Pick<ViewFacts, 'storeOrder' | 'rental'> & { version: number }): ViewFields {
  return {
    version: v.version,
    storeOrderId: v.storeOrder.id,
    storeOrderStatus: v.storeOrder.status,
    rentalId: v.rental.id,
    rentalStatus: v.rental.status,
  };
}

/** A reservation as the customer view shows it (a visible view: every field the type requires is known). */
export function fromView(v: ViewFacts & { version: number }): ReservationView {
  return {
    id: v.reservationId,
    customerId: v.customerId!,
    status: v.status!,
    quantity: v.quantity!,
    startDate: v.startDate!,
    endDate: v.endDate!,
    totalPrice: v.totalPrice,
    item: { __typename: 'Item', id: v.itemId! },
    storeId: v.storeId!,
    history: historyList(v),
    createdAt: v.createdAt!,
    itemName: v.itemName,
    view: viewFields(v),
  };
}

function viewDocFacts(doc: ViewDoc): ViewFacts & { version: number } {
  const { _id, rev: _rev, sequence: _seq, updatedAt: _u, changes: _log, ...rest } = doc;
  return { ...rest, reservationId: _id, storeOrder: doc.storeOrder ?? { id: null, status: null }, rental: doc.rental ?? { id: null, status: null } };
}

/** The view fields of a reservation read from the write model: from the view, once per operation. */
async function viewOf(r: ReservationView, ctx: ReservationsContext): Promise<ViewFields> {
  if (r.view) return r.view;
  let pending = ctx.viewCache.get(r.id);
  if (!pending) {
    pending = ctx.views.get(r.id);
    ctx.viewCache.set(r.id, pending);
  }
  const doc = await pending;
  return doc ? viewFields(viewDocFacts(doc)) : { version: 0, storeOrderId: null, storeOrderStatus: null, rentalId: null, rentalStatus: null };
}

function optionalCount(field: string, value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 0) throw badInput(field, 'must be 0 or more');
  return value;
}

async function subscribeStatus(args: SubscriptionReservationStatusArgs, ctx: ReservationsContext): Promise<UpdateStream> {
  const { identity } = ctx;
  requireRole(identity, 'CUSTOMER', 'STAFF', 'ADMIN');
  const sinceVersion = optionalCount('sinceVersion', args.sinceVersion);
  const sinceSequence = optionalCount('sinceSequence', args.sinceSequence);
  const common = { feed: ctx.feed, data: ctx.views, sequences: ctx.sequences, logger: ctx.logger, reads: ctx.changeLogReads };
  if (args.reservationId !== null && args.reservationId !== undefined) {
    if (sinceSequence !== null) throw badInput('sinceSequence', 'only without reservationId (use sinceVersion)');
    const id = validateReservationId(args.reservationId);
    // Who may listen is decided on the write model: it knows a reservation the moment it is made.
    // (Its customer and store never change: remembered per process, data/parties.ts.)
    const parties = await ctx.parties.of(id);
    if (!parties) throw notFound('reservation', id);
    assertCanView(identity, parties);
    return UpdateStream.open({
      ...common,
      channel: reservationChannel(ctx.feed.prefix, id),
      allowed: (s) => s.reservationId === id && mayViewReservation(identity, s),
      scope: { reservationId: id, sinceVersion },
    });
  }
  if (sinceVersion !== null) throw badInput('sinceVersion', 'only with reservationId (use sinceSequence)');
  if (identity.role !== 'CUSTOMER') throw new AuthError('without reservationId, reservationStatus follows a customer\'s own reservations', 'FORBIDDEN');
  const customerId = identity.sub;
  return UpdateStream.open({
    ...common,
    channel: customerChannel(ctx.feed.prefix, customerId),
    allowed: (s) => s.customerId === customerId,
    scope: { customerId, sinceSequence },
  });
}

/**
 * The reservation if `identity` may see it; null when there is none; FORBIDDEN when it is someone else's.
 * Read through the request's loader: the reservations of one operation (`_entities`, aliases) are one read.
 */
async function readReservation(ctx: ReservationsContext, rawId: string): Promise<ReservationView | null> {
  const { identity } = ctx;
  const id = validateReservationId(rawId);
  const doc = await ctx.reservationById.load(id);
  if (!doc) return null;
  assertCanView(identity, doc);
  return toView(doc);
}

export const resolvers: Resolvers = {
  Date: DateScalar,

  Query: {
    async myReservations(_, args, ctx) {
      requireRole(ctx.identity, 'CUSTOMER', 'STAFF', 'ADMIN');
      const first = pageSize(args.first);
      const cursor = viewAfter(args.after);
      const statuses = args.status ? args.status.filter(isReservationStatus) : null;
      const page = await ctx.views.list(ctx.identity.sub, statuses, first, cursor);
      return toConnection(page, viewCursor, (doc) => fromView(viewDocFacts(doc)), page.count);
    },
    reservation(_, args, ctx) {
      return readReservation(ctx, args.id);
    },
  },

  Mutation: {
    async createReservation(_, args, ctx) {
      // Who and what first: a refused request never takes a place in the queue.
      assertCanCreate(ctx.identity);
      validateCreateReservation(args.input, new Date());
      const doc = await ctx.reserving.run(ctx.deadline, () =>
        ctx.saga.create(ctx.identity, args.input, { requestId: ctx.requestId, logger: ctx.logger, deadline: ctx.deadline }),
      );
      return toView(doc);
    },
    async cancelReservation(_, args, ctx) {
      const doc = await ctx.saga.cancel(ctx.identity, args.id, args.reason, { requestId: ctx.requestId, logger: ctx.logger });
      return toView(doc);
    },
  },

  Subscription: {
    reservationStatus: {
      subscribe: (_, args, ctx) => subscribeStatus(args, ctx),
      resolve: (snapshot: ViewSnapshot) => ({ version: snapshot.version, sequence: snapshot.sequence, reservation: fromView(snapshot) }),
    },
  },

  Reservation: {
    version: async (r, _, ctx) => (await viewOf(r, ctx)).version,
    storeOrderId: async (r, _, ctx) => (await viewOf(r, ctx)).storeOrderId,
    storeOrderStatus: async (r, _, ctx) => (await viewOf(r, ctx)).storeOrderStatus,
    rentalId: async (r, _, ctx) => (await viewOf(r, ctx)).rentalId,
    rentalStatus: async (r, _, ctx) => (await viewOf(r, ctx)).rentalStatus,
    __resolveReference(ref, ctx) {
      return readReservation(ctx, ref.id);
    },
  },
};
