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
  /** The shared outbox relay: flush after writes (the service), sweep after `relay.start()`. */
  relay: OutboxRelay;
  service: RentalsService;
  close(): Promise<void>;
}

export async function openRuntime(config: RentalsConfig, overrides: RentalsOverrides, logger: Logger): Promise<RentalsRuntime> {
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
      provider: overrides.paymentProvider ?? new SandboxPaymentProvider(),
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
