/**
 * What the API process and the worker share: the database connection, the
 * data access, the event bus with the outbox relay, and the use cases.
 */
import type { Connection } from 'mongoose';
import { connectDatabase, databaseName } from '@rental/db';
import { EventBus, OutboxRelay } from '@rental/events';
import type { Logger } from '@rental/observability';
import type { RentalsConfig } from './config.js';
import { RentalsData, rentalModel } from './data/index.js';
import { paymentProviderFromConfig, type PaymentProvider } from './payments/index.js';
import { RentalsService } from './service.js';

/** Overrides for tests (and for wiring another provider). */
export interface RentalsOverrides {
  /** Full database name; wins over `dbPrefix`. */
  dbName?: string;
  /** Database name prefix (the name becomes `<prefix>_rentals`). */
  dbPrefix?: string;
  logger?: Logger;
  /** A payment provider object to use instead of the one PAYMENT_PROVIDER names (tests wrap the sandbox to count its calls). */
  paymentProvider?: PaymentProvider;
}

export interface RentalsRuntime {
  conn: Connection;
  dbName: string;
  data: RentalsData;
  bus: EventBus;
  /** The shared outbox relay: flush after writes (the service), sweep after `relay.start()`. */
  relay: OutboxRelay;
  service: RentalsService;
  close(): Promise<void>;
}

/**
 * Opens what both processes share. The payment provider is chosen first, so
 * a provider refused by the configuration (the sandbox in production without
 * ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION) stops start-up before anything connects.
 */
export async function openRuntime(config: RentalsConfig, overrides: RentalsOverrides, logger: Logger): Promise<RentalsRuntime> {
  const provider = overrides.paymentProvider ?? paymentProviderFromConfig(config);
  const dbName = overrides.dbName ?? databaseName('rentals', overrides.dbPrefix);
  const conn = await connectDatabase(config.MONGODB_URI, dbName);
  try {
    const model = rentalModel(conn);
    await model.init();
    const data = new RentalsData(model);
    const bus = new EventBus({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, logger });
    const relay = new OutboxRelay({ models: [model], bus, logger, sweepMs: config.OUTBOX_SWEEP_MS });
    const service = new RentalsService({
      data,
      provider,
      providerTimeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
      relay,
      logger,
    });
    return {
      conn,
      dbName,
      data,
      bus,
      relay,
      service,
      async close() {
        await relay.stop();
        await bus.close();
        await conn.close();
      },
    };
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}
