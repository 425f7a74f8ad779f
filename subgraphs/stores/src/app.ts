/**
 * The stores API process: the subgraph server on `STORES_PORT`, plus the
 * outbox relay that publishes what `prepareOrder` writes (right after the
 * write, at start-up and every `OUTBOX_SWEEP_MS`). The event consumer runs in
 * a separate process (`worker.ts`).
 */
import { Redis } from 'ioredis';
import { connectDatabase, databaseName, isDatabaseUp } from '@rental/db';
import { EventBus, OutboxRelay } from '@rental/events';
import { createLogger, type Logger } from '@rental/observability';
import { startSubgraph } from '@rental/subgraph-server';
import type { StoresConfig } from './config.js';
import { createLoaders, type StoresContext } from './context.js';
import { ensureIndexes, storesModels, type StoresModels } from './data/models.js';
import { OrderLocks } from './data/order-lock.js';
import { StoreOrderWriter } from './data/order-writer.js';
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
 * Shared by the API and the worker: database, models with indexes, event bus,
 * outbox relay, per-order locks (Redis) and the store order writer. The
 * writer's sweep is started by the caller.
 */
export async function openStoresResources(config: StoresConfig, opts: StoresRunOptions, logger: Logger) {
  const prefix = opts.queuePrefix ?? config.QUEUE_PREFIX;
  const conn = await connectDatabase(config.MONGODB_URI, databaseName('stores', opts.dbPrefix));
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  redis.on('error', (err) => logger.warn({ err }, 'stores: redis connection error'));
  const closeBase = async () => {
    await redis.quit().catch(() => redis.disconnect());
    await conn.close();
  };
  try {
    const models = storesModels(conn);
    await ensureIndexes(models);
    const bus = new EventBus({ redisUrl: config.REDIS_URL, prefix, logger });
    // The relay's own sweep is not started: StoreOrderWriter sweeps under the per-order lock.
    const relay = new OutboxRelay({ models: [models.StoreOrder], bus, logger, sweepMs: config.OUTBOX_SWEEP_MS });
    const orders = new StoreOrderWriter({
      StoreOrder: models.StoreOrder,
      locks: new OrderLocks(redis, { prefix }),
      relay,
      logger,
      sweepMs: config.OUTBOX_SWEEP_MS,
    });
    return {
      conn,
      models,
      bus,
      orders,
      async close() {
        await orders.stop();
        await relay.stop();
        await bus.close();
        await closeBase();
      },
    };
  } catch (err) {
    await closeBase().catch(() => undefined);
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
      context: (base) => ({ ...base, models: res.models, loaders: createLoaders(res.models), orders: res.orders }),
      readinessChecks: [() => isDatabaseUp(res.conn)],
      onStop: () => res.close(),
    });
    return { url: server.url, port: server.port, models: res.models, stop: () => server.stop() };
  } catch (err) {
    await res.close().catch(() => undefined);
    throw err;
  }
}
