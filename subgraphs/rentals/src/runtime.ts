/**
 * What the API process and the worker share: the database connection, the
 * data access, the event bus with the outbox relay, and the use cases.
 */
import type { Connection } from 'mongoose';
import { Redis } from 'ioredis';
import { connectDatabase, databaseName } from '@rental/db';
import { EventBus, OutboxRelay } from '@rental/events';
import type { Logger } from '@rental/observability';
import type { RentalsConfig } from './config.js';
import { RentalLocks, RentalOutbox, RentalsData, rentalModel } from './data/index.js';
import { SandboxPaymentProvider, type PaymentProvider } from './payments/index.js';
import { RentalsService } from './service.js';

/** Overrides for tests (and for wiring another provider). */
export interface RentalsOverrides {
  /** Full database name; wins over `dbPrefix`. */
  dbName?: string;
  /** Database name prefix (the name becomes `<prefix>_rentals`). */
  dbPrefix?: string;
  logger?: Logger;
  /** The payment provider; default the sandbox. */
  paymentProvider?: PaymentProvider;
}

export interface RentalsRuntime {
  conn: Connection;
  dbName: string;
  data: RentalsData;
  bus: EventBus;
  relay: OutboxRelay;
  /** The relay run under the rentals' locks: flush after writes, sweep. Call `outbox.start()`. */
  outbox: RentalOutbox;
  service: RentalsService;
  close(): Promise<void>;
}

export async function openRuntime(config: RentalsConfig, overrides: RentalsOverrides, logger: Logger): Promise<RentalsRuntime> {
  const dbName = overrides.dbName ?? databaseName('rentals', overrides.dbPrefix);
  const conn = await connectDatabase(config.MONGODB_URI, dbName);
  // Lock commands should fail fast when Redis is gone (the caller answers TRY_LATER / the job retries).
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  redis.on('error', (err) => logger.warn({ err }, 'rental locks: redis connection error'));
  try {
    const model = rentalModel(conn);
    await model.init();
    const locks = new RentalLocks(redis, { prefix: config.QUEUE_PREFIX });
    const data = new RentalsData(model, locks);
    const bus = new EventBus({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, logger });
    // The relay's own sweep stays off: RentalOutbox sweeps under the rental locks.
    const relay = new OutboxRelay({ models: [model], bus, logger, sweepMs: config.OUTBOX_SWEEP_MS });
    const outbox = new RentalOutbox(model, locks, relay, logger, config.OUTBOX_SWEEP_MS);
    const service = new RentalsService({
      data,
      provider: overrides.paymentProvider ?? new SandboxPaymentProvider(),
      providerTimeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
      outbox,
      logger,
    });
    return {
      conn,
      dbName,
      data,
      bus,
      relay,
      outbox,
      service,
      async close() {
        await outbox.stop();
        await relay.stop();
        await bus.close();
        await redis.quit().catch(() => redis.disconnect());
        await conn.close();
      },
    };
  } catch (err) {
    redis.disconnect();
    await conn.close().catch(() => undefined);
    throw err;
  }
}
