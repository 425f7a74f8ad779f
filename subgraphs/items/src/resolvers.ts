/**
 * Resolvers: authorization, then the domain rules, then data access.
 * Anyone (ANONYMOUS included) may browse; `registerItem` needs STAFF of the
 * store or ADMIN; the stock holds need a SERVICE identity.
 */
import { requireRole, requireStoreAccess } from '@rental/auth';
import { DomainError } from '@rental/errors';
import { metrics, prom } from '@rental/observability';
import { pageSize, toConnection } from '@rental/subgraph-server/pagination';
import {
  itemAfter,
  itemCursor,
  normalizeFilter,
  normalizeReservationId,
  validateHoldQuantity,
  validateRegisterItem,
} from './domain/index.js';
import type { Resolvers } from './generated/graphql.js';

/** Time from a request's arrival to its TRY_LATER answer, for registrations refused by the gate. */
const registrationsShed =
  (metrics.getSingleMetric('items_register_item_shed_seconds') as InstanceType<typeof prom.Histogram> | undefined) ??
  new prom.Histogram({
    name: 'items_register_item_shed_seconds',
    help: 'registerItem calls refused by REGISTER_ITEM_CONCURRENCY: time from arrival to the TRY_LATER answer',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [metrics],
  });

export const resolvers: Resolvers = {
  Query: {
    async items(_, args, ctx) {
      const filter = normalizeFilter(args.filter);
      const first = pageSize(args.first);
      const page = await ctx.items.listItems(filter, first, itemAfter(args.after));
      return toConnection(page, (item) => itemCursor(item.id), (item) => item, page.count);
    },
    item(_, args, ctx) {
      return ctx.itemLoader.load(args.id);
    },
  },

  Mutation: {
    async registerItem(_, args, ctx) {
      requireStoreAccess(ctx.identity, args.input.storeId);
      const input = validateRegisterItem(args.input);
      try {
        const item = await ctx.registrations.run(ctx.deadline, () => ctx.items.registerItem(input));
        ctx.logger.info({ itemId: item.id, storeId: item.storeId }, 'item registered');
        return item;
      } catch (err) {
        if (err instanceof DomainError && err.code === 'TRY_LATER') {
          registrationsShed.observe((performance.now() - ctx.receivedAt) / 1000);
        }
        throw err;
      }
    },
    async holdStock(_, args, ctx) {
      requireRole(ctx.identity, 'SERVICE');
      const reservationId = normalizeReservationId(args.reservationId);
      const quantity = validateHoldQuantity(args.quantity);
      return ctx.holds.run(ctx.deadline, () => ctx.items.holdStock(reservationId, args.itemId, quantity));
    },
    async releaseStock(_, args, ctx) {
      requireRole(ctx.identity, 'SERVICE');
      return ctx.items.releaseStock(normalizeReservationId(args.reservationId), args.itemId);
    },
  },

  Item: {
    __resolveReference(ref, ctx) {
      return ctx.itemLoader.load(ref.id);
    },
  },

  StockHold: {
    async item(hold, _, ctx) {
      const item = hold.item ?? (await ctx.itemLoader.load(hold.itemId));
      // A hold exists only on an existing item, and items are never deleted.
      if (!item) throw new Error(`item ${hold.itemId} of hold ${hold.reservationId} vanished`);
      return item;
    },
  },
};
