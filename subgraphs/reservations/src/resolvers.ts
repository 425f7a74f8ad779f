/**
 * Resolvers: who may do it (domain access rules), then the saga or the data.
 * The reservation document is mapped to the API shape here.
 */
import type { Identity } from '@rental/auth';
import { assertCanView, validateReservationId, type CreateReservationInput } from './domain/index.js';
import type { ReservationDoc, ReservationsData } from './data/index.js';
import type { ReservationsContext } from './context.js';
import { DateScalar } from './date-scalar.js';

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
  };
}

/** The reservation if `identity` may see it; null when there is none; FORBIDDEN when it is someone else's. */
async function readReservation(data: ReservationsData, identity: Identity, rawId: string): Promise<ReservationView | null> {
  const id = validateReservationId(rawId);
  const doc = await data.findById(id);
  if (!doc) return null;
  assertCanView(identity, doc);
  return toView(doc);
}

export const resolvers = {
  Date: DateScalar,

  Query: {
    reservation(_: unknown, args: { id: string }, ctx: ReservationsContext): Promise<ReservationView | null> {
      return readReservation(ctx.data, ctx.identity, args.id);
    },
  },

  Mutation: {
    async createReservation(_: unknown, args: { input: CreateReservationInput }, ctx: ReservationsContext): Promise<ReservationView> {
      const doc = await ctx.saga.create(ctx.identity, args.input, { requestId: ctx.requestId, logger: ctx.logger });
      return toView(doc);
    },
    async cancelReservation(
      _: unknown,
      args: { id: string; reason?: string | null },
      ctx: ReservationsContext,
    ): Promise<ReservationView> {
      const doc = await ctx.saga.cancel(ctx.identity, args.id, args.reason, { requestId: ctx.requestId, logger: ctx.logger });
      return toView(doc);
    },
  },

  Reservation: {
    __resolveReference(ref: { id: string }, ctx: ReservationsContext): Promise<ReservationView | null> {
      return readReservation(ctx.data, ctx.identity, ref.id);
    },
  },
};
