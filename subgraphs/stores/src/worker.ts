/**
 * The stores worker: consumes `stores-events` and keeps store orders in step
 * with reservations and rentals.
 *
 * - `ReservationConfirmed` → a PENDING order (one insert), then
 *   `StoreOrderCreated` published by the handler itself (see
 *   `StoreOrderWriter.onConfirmed`: the job's retry is its outbox).
 * - `ReservationCancelled` → PENDING/READY → CANCELLED + `StoreOrderCancelled`
 *   (a tombstone when the order does not exist yet).
 * - `RentalStarted` → READY → HANDED_OVER.
 *
 * Each handler is one conditional update (see data/store-orders-data.ts), so
 * repeats change nothing. After a handler wrote an event it flushes the
 * order's outbox; the relay also sweeps at start-up and every
 * `OUTBOX_SWEEP_MS`, so an event survives a crash between the write and the
 * publish.
 * `worker-main.ts` runs it as its own process.
 */
import { startConsumer, type Consumer, type EventHandlers } from '@rental/events';
import { isDatabaseUp } from '@rental/db';
import { createLogger } from '@rental/observability';
import { startWorkerHealthFromConfig, type WorkerHealthServer } from '@rental/subgraph-server';
import type { StoresConfig } from './config.js';
import { openStoresResources, type StoresRunOptions } from './app.js';
import type { StoresModels } from './data/index.js';

export interface RunningStoresWorker {
  consumer: Consumer;
  models: StoresModels;
  /** `/healthz`, `/readyz`, `/metrics` when WORKER_HEALTH_PORT is set. */
  health: WorkerHealthServer | undefined;
  stop(): Promise<void>;
}

export async function startStoresWorker(config: StoresConfig, opts: StoresRunOptions = {}): Promise<RunningStoresWorker> {
  const logger = opts.logger ?? createLogger('stores-worker', config.LOG_LEVEL);
  const res = await openStoresResources(config, opts, logger);
  const { orders } = res;

  const handlers: EventHandlers = {
    ReservationConfirmed: async (event, { log }) => {
      const { outcome, orderId } = await orders.onConfirmed(event);
      log.info({ orderId, outcome }, outcome === 'tombstone' ? 'confirm after cancel: order kept CANCELLED' : 'store order from confirmed reservation');
    },
    ReservationCancelled: async (event, { log }) => {
      const { outcome, orderId } = await orders.onCancelled(event);
      log.info({ orderId, outcome }, outcome === 'tombstone' ? 'cancel before confirm: tombstone written' : 'store order cancel');
    },
    RentalStarted: async (event, { log }) => {
      const { outcome, orderId } = await orders.onRentalStarted(event);
      if (outcome === 'skipped') log.warn({ orderId }, 'rental started but the store order was not READY (or already handed over); nothing changed');
      else log.info({ orderId }, 'store order handed over');
    },
  };

  res.orders.start();
  let consumer: Consumer;
  try {
    consumer = await startConsumer({
      subgraph: 'stores',
      redisUrl: config.REDIS_URL,
      prefix: opts.queuePrefix ?? config.QUEUE_PREFIX,
      handlers,
      concurrency: config.WORKER_CONCURRENCY,
      logger,
    });
  } catch (err) {
    await res.close().catch(() => undefined);
    throw err;
  }
  logger.info({ concurrency: config.WORKER_CONCURRENCY }, 'stores worker consuming stores-events');
  const running = consumer;
  const health = await startWorkerHealthFromConfig('stores-worker', config, logger, [() => isDatabaseUp(res.conn), async () => running.worker.isRunning()]);

  let stopped: Promise<void> | undefined;
  return {
    consumer,
    models: res.models,
    health,
    stop() {
      stopped ??= (async () => {
        health?.drain();
        // Takes no new job and waits for the active ones; then the relay, the bus and the database.
        await consumer.close();
        await res.close();
        await health?.close();
        logger.info('stores worker stopped');
      })();
      return stopped;
    },
  };
}
