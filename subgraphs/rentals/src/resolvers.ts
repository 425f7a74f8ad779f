/**
 * Resolvers: authorization, then the use case (`service.ts`).
 *
 * Access:
 * - `startRental`, `returnRental`: STAFF of the rental's store, or ADMIN
 *   (other roles FORBIDDEN before the rental is even looked up).
 * - `chargePayment`, `refundPayment`: SERVICE only.
 * - Reading a rental (`Query.rental`, `Reservation.rental`, the `Rental`
 *   entity): whoever may see its reservation (`mayViewReservation` in
 *   `@rental/auth`: its customer, STAFF of its store, ADMIN); anyone else
 *   gets `null` rather than an error, so the field neither fails a whole
 *   federated reservation query nor reveals that a rental exists. A void
 *   marker (a refund that came before any charge) is no rental and is not
 *   shown either.
 */
import { mayViewReservation, requireRole, requireStoreAccess, type Identity } from '@rental/auth';
import { isVoidMarker, type RentalDoc, type StoredRental } from './data/index.js';
import type { Resolvers } from './generated/graphql.js';

function visible(identity: Identity, doc: StoredRental | null): RentalDoc | null {
  if (!doc || isVoidMarker(doc)) return null;
  return mayViewReservation(identity, doc) ? doc : null;
}

const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

export const resolvers: Resolvers = {
  Query: {
    async rental(_, args, ctx) {
      requireRole(ctx.identity, 'CUSTOMER', 'STAFF', 'ADMIN');
      return visible(ctx.identity, await ctx.rentalById.load(args.id));
    },
  },

  Mutation: {
    startRental(_, args, ctx) {
      requireRole(ctx.identity, 'STAFF', 'ADMIN');
      return ctx.rentals.start(args.reservationId, (r) => requireStoreAccess(ctx.identity, r.storeId), ctx.requestId);
    },
    returnRental(_, args, ctx) {
      requireRole(ctx.identity, 'STAFF', 'ADMIN');
      return ctx.rentals.return(args.rentalId, (r) => requireStoreAccess(ctx.identity, r.storeId), ctx.requestId);
    },
    async chargePayment(_, args, ctx) {
      requireRole(ctx.identity, 'SERVICE');
      const doc = await ctx.rentals.charge(args.input);
      return doc.payment;
    },
    async refundPayment(_, args, ctx) {
      requireRole(ctx.identity, 'SERVICE');
      const doc = await ctx.rentals.refund(args.reservationId);
      return doc?.payment ?? null;
    },
  },

  Reservation: {
    async rental(parent, _, ctx) {
      return visible(ctx.identity, await ctx.rentalByReservation.load(parent.id));
    },
  },

  Rental: {
    async __resolveReference(ref, ctx) {
      return visible(ctx.identity, await ctx.rentalById.load(ref.id));
    },
    id: (r) => r._id,
    startedAt: (r) => iso(r.startedAt),
    returnedAt: (r) => iso(r.returnedAt),
    readyForPickup: (r) => r.readyForPickup === true,
  },
};
