/**
 * `startReservationsWorker`: the reservations event consumer, a process of
 * its own (`src/worker.ts`). While it is down, the API keeps accepting
 * reservations and the events wait in `reservations-events`.
 */
import { connectDatabase, databaseName } from '@rental/db';
import { startConsumer, type Consumer, type EventHandlers } from '@rental/events';
import { createLogger, type Logger } from '@rental/observability';
import type { ReservationsConfig } from './config.js';
import { combineHandlers, reservationHandlers } from './consumer/handlers.js';
import { ReservationsData, reservationModel } from './data/index.js';
import { createDependencies, type Dependencies } from './saga/clients.js';

export interface ReservationsWorkerOverrides {
  dbName?: string;
  dbPrefix?: string;
  queuePrefix?: string;
  logger?: Logger;
  /** More handlers, run after the write model's own for the same type (the customer view's projector plugs in here). */
  handlers?: EventHandlers;
}

export interface RunningReservationsWorker {
  consumer: Consumer;
  data: ReservationsData;
  breakers: Dependencies['breakers'];
  stop(): Promise<void>;
}

export async function startReservationsWorker(
  config: ReservationsConfig,
  overrides: ReservationsWorkerOverrides = {},
): Promise<RunningReservationsWorker> {
  const logger = overrides.logger ?? createLogger('reservations-worker', config.LOG_LEVEL);
  const conn = await connectDatabase(config.MONGODB_URI, overrides.dbName ?? databaseName('reservations', overrides.dbPrefix));
  const deps = createDependencies(config, logger);
  try {
    const model = reservationModel(conn);
    await model.init();
    const data = new ReservationsData(model);
    const consumer = await startConsumer({
      subgraph: 'reservations',
      redisUrl: config.REDIS_URL,
      prefix: overrides.queuePrefix ?? config.QUEUE_PREFIX,
      handlers: combineHandlers(reservationHandlers({ data, items: deps.items }), overrides.handlers ?? {}),
      concurrency: config.WORKER_CONCURRENCY,
      logger,
    });
    logger.info('reservations worker consuming reservations-events');
    let stopped: Promise<void> | undefined;
    return {
      consumer,
      data,
      breakers: deps.breakers,
      stop() {
        stopped ??= (async () => {
          await consumer.close();
          deps.shutdown();
          await conn.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    deps.shutdown();
    await conn.close().catch(() => undefined);
    throw err;
  }
}
