/**
 * Resolvers of the stores subgraph. Access rules:
 * - `stores`, `store`, `Item.store`: public (any routed caller).
 * - `createStore`: ADMIN.
 * - `storeOrders(storeId)`, `prepareOrder`: STAFF of that store, or ADMIN.
 * - `Reservation.storeOrder` and the `StoreOrder` entity: whoever may see
 *   the reservation (`mayViewReservation` in `@rental/auth`: its customer,
 *   STAFF of the store, ADMIN); `null` for anyone else, not an error, so one
 *   hidden order does not fail a whole reservation query.
 */
import { mayViewReservation, requireRole, requireStoreAccess } from '@rental/auth';
import { notFound } from '@rental/errors';
import { pageSize, toConnection } from '@rental/subgraph-server/pagination';
import type { StoresContext } from './context.js';
import type { Resolvers } from './generated/graphql.js';
import {
  storeOrderAfter,
  storeOrderCursor,
  validateCreateStore,
} from './domain/index.js';
import type { StoreDoc, StoreOrderDoc } from './data/index.js';

const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

function storeView(doc: StoreDoc) {
  return { id: doc._id, name: doc.name, city: doc.city, address: doc.address ?? null };
}

function orderView(doc: StoreOrderDoc) {
  return {
    id: doc._id,
    reservationId: doc.reservationId,
    storeId: doc.storeId,
    status: doc.status,
    itemId: doc.itemId,
    itemName: doc.itemName,
    quantity: doc.quantity,
    startDate: doc.startDate,
    endDate: doc.endDate,
    customerId: doc.customerId,
    createdAt: iso(doc.createdAt),
    preparedAt: iso(doc.preparedAt),
    history: (doc.history ?? []).map((h) => ({ status: h.status, at: iso(h.at), reason: h.reason ?? null })),
  };
}

/** A store order as the API shows it (the parent of `StoreOrder`'s resolvers). */
export type OrderView = ReturnType<typeof orderView>;

function visibleOrder(doc: StoreOrderDoc | null, ctx: StoresContext): OrderView | null {
  return doc && mayViewReservation(ctx.identity, doc) ? orderView(doc) : null;
}

export const resolvers: Resolvers = {
  Query: {
    stores: async (_, __, ctx) => (await ctx.stores.list()).map(storeView),
    store: async (_, args, ctx) => {
      const doc = await ctx.loaders.storeById.load(args.id);
      return doc ? storeView(doc) : null;
    },
    storeOrders: async (_, args, ctx) => {
      requireStoreAccess(ctx.identity, args.storeId);
      const first = pageSize(args.first);
      const after = storeOrderAfter(args.after);
      const page = await ctx.storeOrders.page(args.storeId, args.status, first, after);
      return toConnection(page, storeOrderCursor, orderView, page.count);
    },
  },

  Mutation: {
    createStore: async (_, args, ctx) => {
      requireRole(ctx.identity, 'ADMIN');
      const input = validateCreateStore(args.input);
      const doc = await ctx.stores.insert(input);
      ctx.logger.info({ storeId: doc._id }, 'store created');
      return storeView(doc);
    },
    prepareOrder: async (_, args, ctx) => {
      requireRole(ctx.identity, 'STAFF', 'ADMIN');
      // The order's outbox is flushed before this answers (a failed publish is left to the sweep).
      const updated = await ctx.orders.prepare(args.orderId, (order) => requireStoreAccess(ctx.identity, order.storeId), ctx.requestId);
      ctx.logger.info({ orderId: updated._id, reservationId: updated.reservationId }, 'store order prepared');
      return orderView(updated);
    },
  },

  Store: {
    __resolveReference: async (ref, ctx) => {
      const doc = await ctx.loaders.storeById.load(ref.id);
      return doc ? storeView(doc) : null;
    },
  },

  StoreOrder: {
    __resolveReference: async (ref, ctx) =>
      visibleOrder(await ctx.loaders.orderById.load(ref.id), ctx),
    store: async (order, _, ctx) => {
      const doc = await ctx.loaders.storeById.load(order.storeId);
      if (!doc) throw notFound('store', order.storeId);
      return storeView(doc);
    },
  },

  Item: {
    // No __resolveReference: the representation ({ id, storeId }) is all `store` needs.
    store: async (item, _, ctx) => {
      if (!item.storeId) return null;
      const doc = await ctx.loaders.storeById.load(item.storeId);
      return doc ? storeView(doc) : null;
    },
  },

  Reservation: {
    storeOrder: async (reservation, _, ctx) =>
      visibleOrder(await ctx.loaders.orderByReservationId.load(reservation.id), ctx),
  },
};
