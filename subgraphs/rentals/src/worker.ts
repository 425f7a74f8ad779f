/**
 * The rentals worker: a separate process draining `rentals-events`.
 *
 * - `StoreOrderPrepared` → the rental is ready for pickup (once per event id:
 *   `notProcessed`/`markProcessed` on the rental document).
 * - `ReservationCancelled` → refund and cancel the rental if it is still
 *   awaiting pickup (the refund is idempotent; the event id is remembered).
 *
 * It also runs an outbox relay, so rentals' own events left unpublished by a
 * crashed API process go out even when no API process is up.
 *
 * `startRentalsWorker(config)` is the factory; `worker-main.ts` runs it as
 * its own process (config, SIGTERM).
 */
import { isDatabaseUp } from '@rental/db';
import { startConsumer, type Consumer } from '@rental/events';
import { createLogger } from '@rental/observability';
import { startWorkerHealthFromConfig, type WorkerHealthServer } from '@rental/subgraph-server';
import type { RentalsConfig } from './config.js';
import { openRuntime, type RentalsOverrides, type RentalsRuntime } from './runtime.js';

export interface RunningRentalsWorker {
  consumer: Consumer;
  runtime: RentalsRuntime;
  dbName: string;
  /** `/healthz`, `/readyz`, `/metrics` when WORKER_HEALTH_PORT is set. */
  health: WorkerHealthServer | undefined;
  stop(): Promise<void>;
}

export interface RentalsWorkerOptions extends RentalsOverrides {
  /** Jobs handled at once. Default 8. */
  concurrency?: number;
}

export async function startRentalsWorker(config: RentalsConfig, opts: RentalsWorkerOptions = {}): Promise<RunningRentalsWorker> {
  const logger = opts.logger ?? createLogger('rentals-worker', config.LOG_LEVEL);
  const runtime = await openRuntime(config, opts, logger);
  let consumer: Consumer;
  try {
    runtime.relay.start();
    consumer = await startConsumer({
      subgraph: 'rentals',
      redisUrl: config.REDIS_URL,
      prefix: config.QUEUE_PREFIX,
      logger,
      concurrency: opts.concurrency,
      handlers: {
        StoreOrderPrepared: (event, { log }) => runtime.service.markReady(event.payload.reservationId, event.eventId, log),
        ReservationCancelled: (event, { log }) => runtime.service.cancelFromEvent(event.payload.reservationId, event.eventId, log),
      },
    });
  } catch (err) {
    await runtime.close().catch(() => undefined);
    throw err;
  }
  logger.info({ queuePrefix: config.QUEUE_PREFIX }, 'rentals worker consuming rentals-events');
  const running = consumer;
  const health = await startWorkerHealthFromConfig('rentals-worker', config, logger, [() => isDatabaseUp(runtime.conn), async () => running.worker.isRunning()]);
  let stopped: Promise<void> | undefined;
  return {
    consumer,
    runtime,
    dbName: runtime.dbName,
    health,
    stop() {
      stopped ??= (async () => {
        health?.drain();
        // Takes no new job and waits for the active ones; then the relay, the bus and the database.
        await consumer.close();
        await runtime.close();
        await health?.close();
        logger.info('rentals worker stopped');
      })();
      return stopped;
    },
  };
}
