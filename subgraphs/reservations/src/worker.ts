/**
 * `startReservationsWorker`: the reservations event consumer, a process of
 * its own (`src/worker-main.ts`). While it is down, the API keeps accepting
 * reservations and the events wait in `reservations-events`.
 */
import { connectDatabase, databaseName, isDatabaseUp } from '@rental/db';
import { startConsumer, type Consumer, type EventHandlers } from '@rental/events';
import { createLogger, type Logger } from '@rental/observability';
import { startWorkerHealthFromConfig, type WorkerHealthServer } from '@rental/subgraph-server';
import type { ReservationsConfig } from './config.js';
import { combineHandlers, reservationHandlers } from './consumer/handlers.js';
import { ReservationsData, ViewData, reservationModel, viewModels } from './data/index.js';
import { createDependencies, type Dependencies } from './saga/clients.js';
import { ViewPublisher } from './view/feed.js';
import { ViewProjector, type SnapshotPublisher } from './view/projector.js';
import { FeedSequence } from './view/sequence.js';

export interface ReservationsWorkerOverrides {
  dbName?: string;
  dbPrefix?: string;
  queuePrefix?: string;
  logger?: Logger;
  /** More handlers, run after the write model's and the customer view's for the same type. */
  handlers?: EventHandlers;
  /** Wraps the view's publisher (tests: observe or fail publishes). */
  publisher?: (real: SnapshotPublisher) => SnapshotPublisher;
}

export interface RunningReservationsWorker {
  consumer: Consumer;
  data: ReservationsData;
  views: ViewData;
  /** The customer feed's sequence (Redis). */
  sequences: FeedSequence;
  projector: ViewProjector;
  breakers: Dependencies['breakers'];
  /** `/healthz`, `/readyz`, `/metrics` when WORKER_HEALTH_PORT is set. */
  health: WorkerHealthServer | undefined;
  stop(): Promise<void>;
}

export async function startReservationsWorker(
  config: ReservationsConfig,
  overrides: ReservationsWorkerOverrides = {},
): Promise<RunningReservationsWorker> {
  const logger = overrides.logger ?? createLogger('reservations-worker', config.LOG_LEVEL);
  const conn = await connectDatabase(config.MONGODB_URI, overrides.dbName ?? databaseName('reservations', overrides.dbPrefix));
  const deps = createDependencies(config, logger);
  const prefix = overrides.queuePrefix ?? config.QUEUE_PREFIX;
  const publisher = new ViewPublisher(config.REDIS_URL, prefix, logger);
  const views = new ViewData(viewModels(conn));
  const sequences = new FeedSequence(config.REDIS_URL, prefix, (customerId) => views.maxSequence(customerId));
  try {
    const model = reservationModel(conn);
    await model.init();
    const data = new ReservationsData(model);
    await views.init();
    const projector = new ViewProjector(views, sequences, overrides.publisher ? overrides.publisher(publisher) : publisher, logger);
    const consumer = await startConsumer({
      subgraph: 'reservations',
      redisUrl: config.REDIS_URL,
      prefix,
      // The write model first, then the customer view (it only records what happened).
      handlers: combineHandlers(combineHandlers(reservationHandlers({ data, items: deps.items }), projector.handlers()), overrides.handlers ?? {}),
      concurrency: config.WORKER_CONCURRENCY,
      logger,
    });
    logger.info('reservations worker consuming reservations-events');
    const health = await startWorkerHealthFromConfig('reservations-worker', config, logger, [() => isDatabaseUp(conn), async () => consumer.worker.isRunning()]);
    let stopped: Promise<void> | undefined;
    return {
      consumer,
      data,
      views,
      sequences,
      projector,
      breakers: deps.breakers,
      health,
      stop() {
        stopped ??= (async () => {
          health?.drain();
          // Takes no new job and waits for the active ones.
          await consumer.close();
          await publisher.close();
          await sequences.close();
          deps.shutdown();
          await conn.close();
          await health?.close();
          logger.info('reservations worker stopped');
        })();
        return stopped;
      },
    };
  } catch (err) {
    deps.shutdown();
    await publisher.close().catch(() => undefined);
    await sequences.close().catch(() => undefined);
    await conn.close().catch(() => undefined);
    throw err;
  }
}
