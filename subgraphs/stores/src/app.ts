/**
 * The stores API process: the subgraph server on `STORES_PORT`, plus the
 * outbox relay that publishes what `prepareOrder` writes (right after the
 * write, at start-up and every `OUTBOX_SWEEP_MS`). The event consumer runs in
 * a separate process (`worker.ts`).
 */
import { connectDatabase, databaseName, isDatabaseUp } from '@rental/db';
import { EventBus, OutboxRelay } from '@rental/events';
import { createLogger, type Logger } from '@rental/observability';
import { startSubgraph } from '@rental/subgraph-server';
import type { StoresConfig } from './config.js';
import { createLoaders, type StoresContext } from './context.js';
import { ensureIndexes, StoreOrdersData, StoreOrderWriter, StoresData, storesModels, type StoresModels } from './data/index.js';
import { resolvers } from './resolvers.js';
import { typeDefs } from './schema.js';

/** Overrides for tests: isolated database and queue names, a quiet logger. */
export interface StoresRunOptions {
  /** Database name prefix (database = `<prefix>_stores`); default `MONGODB_DB_PREFIX` or `rental`. */
  dbPrefix?: string;
  /** BullMQ key prefix; default `QUEUE_PREFIX`. */
  queuePrefix?: string;
  logger?: Logger;
}

export interface RunningStores {
  url: string;
  port: number;
  models: StoresModels;
  stop(): Promise<void>;
}

/**
 * Shared by the API and the worker: database, models with indexes, the data
 * access of each aggregate, event bus, outbox relay and the store order
 * writer. The caller starts the sweep.
 */
export async function openStoresResources(config: StoresConfig, opts: StoresRunOptions, logger: Logger) {
  const prefix = opts.queuePrefix ?? config.QUEUE_PREFIX;
  const conn = await connectDatabase(config.MONGODB_URI, databaseName('stores', opts.dbPrefix));
  try {
    const models = storesModels(conn);
    await ensureIndexes(models);
    const bus = new EventBus({ redisUrl: config.REDIS_URL, prefix, logger });
    const relay = new OutboxRelay({ models: [models.StoreOrder], bus, logger, sweepMs: config.OUTBOX_SWEEP_MS });
    const stores = new StoresData(models.Store);
    const storeOrders = new StoreOrdersData(models.StoreOrder);
    const orders = new StoreOrderWriter({ data: storeOrders, relay, bus, logger });
    return {
      conn,
      models,
      stores,
      storeOrders,
      bus,
      orders,
      async close() {
        await orders.stop();
        await bus.close();
        await conn.close();
      },
    };
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}

export async function startStores(config: StoresConfig, opts: StoresRunOptions = {}): Promise<RunningStores> {
  const logger = opts.logger ?? createLogger('stores', config.LOG_LEVEL);
  const res = await openStoresResources(config, opts, logger);
  res.orders.start();
  try {
    const server = await startSubgraph<StoresContext>({
      name: 'stores',
      typeDefs,
      resolvers,
      host: config.HOST,
      port: config.STORES_PORT,
      internalSecret: config.INTERNAL_JWT_SECRET,
      logger,
      production: config.NODE_ENV === 'production',
      context: (base) => ({
        ...base,
        stores: res.stores,
        storeOrders: res.storeOrders,
        loaders: createLoaders(res.stores, res.storeOrders),
        orders: res.orders,
      }),
      readinessChecks: [() => isDatabaseUp(res.conn)],
      shutdownDelayMs: config.SHUTDOWN_DELAY_MS,
      requestDeadlineMs: config.REQUEST_DEADLINE_MS,
      httpTimeouts: config,
      dependencyGraceMs: config.DB_LOSS_GRACE_MS,
      onStop: () => res.close(),
    });
    return { url: server.url, port: server.port, models: res.models, stop: () => server.stop() };
  } catch (err) {
    await res.close().catch(() => undefined);
    throw err;
  }
}
