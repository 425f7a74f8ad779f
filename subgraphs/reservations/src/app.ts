/**
 * `startReservations`: connects the reservations database, starts the outbox
 * relay and the stale-saga sweeper, and serves the subgraph. Tests call it
 * with port 0, their own database prefix and queue prefix.
 */
import { connectDatabase, databaseName, isDatabaseUp } from '@rental/db';
import { EventBus, OutboxRelay } from '@rental/events';
import { createLogger, type Logger } from '@rental/observability';
import { Admission, startSubgraph, type RunningSubgraph } from '@rental/subgraph-server';
import type { ReservationsConfig } from './config.js';
import { reservationLoader, type ReservationsContext } from './context.js';
import { ReservationParties, ReservationsData, ViewData, reservationModel, viewModels } from './data/index.js';
import { ChangeLogReads } from './view/change-log-reads.js';
import { resolvers } from './resolvers.js';
import { createDependencies, type Dependencies } from './saga/clients.js';
import { ReservationSaga, type Publish } from './saga/reservation-saga.js';
import { SagaSweeper } from './saga/sweeper.js';
import { typeDefs } from './schema.js';
import { ViewFeed } from './view/feed.js';
import { FeedSequence } from './view/sequence.js';

export { typeDefs, resolvers };

export interface ReservationsOverrides {
  /** Port instead of RESERVATIONS_PORT (0: any free port). */
  port?: number;
  /** Full database name; wins over `dbPrefix`. */
  dbName?: string;
  /** Database name prefix (the name becomes `<prefix>_reservations`). */
  dbPrefix?: string;
  /** BullMQ prefix instead of QUEUE_PREFIX. */
  queuePrefix?: string;
  logger?: Logger;
  /**
   * Do not publish right after a write; leave events in the outbox for the
   * relay's sweep. Tests use it (with a long OUTBOX_SWEEP_MS) to stand for a
   * process that died between the write and the publish.
   */
  skipImmediatePublish?: boolean;
  /** Do not run the periodic saga sweeper (tests drive `sweeper.sweepOnce()`). */
  disableSweeper?: boolean;
}

export interface RunningReservations extends RunningSubgraph {
  dbName: string;
  data: ReservationsData;
  saga: ReservationSaga;
  sweeper: SagaSweeper;
  relay: OutboxRelay;
  bus: EventBus;
  /** The customer view (read model) and its live feed. */
  views: ViewData;
  feed: ViewFeed;
  /** Breakers of the items and rentals clients (state for metrics and tests). */
  breakers: Dependencies['breakers'];
}

/** How long a request waits for its events to reach Redis before answering anyway. */
const PUBLISH_WAIT_MS = 2000;

export async function startReservations(config: ReservationsConfig, overrides: ReservationsOverrides = {}): Promise<RunningReservations> {
  const logger = overrides.logger ?? createLogger('reservations', config.LOG_LEVEL);
  const dbName = overrides.dbName ?? databaseName('reservations', overrides.dbPrefix);
  const conn = await connectDatabase(config.MONGODB_URI, dbName);
  let bus: EventBus | undefined;
  let deps: Dependencies | undefined;
  let feed: ViewFeed | undefined;
  let sequences: FeedSequence | undefined;
  try {
    const model = reservationModel(conn);
    await model.init();
    const data = new ReservationsData(model);
    const views = new ViewData(viewModels(conn));
    await views.init();
    const parties = new ReservationParties(data);
    const changeLogReads = new ChangeLogReads(views);
    const queuePrefix = overrides.queuePrefix ?? config.QUEUE_PREFIX;
    feed = new ViewFeed(config.REDIS_URL, queuePrefix, logger);
    const ownFeed = feed;
    sequences = new FeedSequence(config.REDIS_URL, queuePrefix, (customerId) => views.maxSequence(customerId));
    const ownSequences = sequences;
    bus = new EventBus({ redisUrl: config.REDIS_URL, prefix: queuePrefix, logger });
    const relay = new OutboxRelay({ models: [model], bus, logger, sweepMs: config.OUTBOX_SWEEP_MS });
    deps = createDependencies(config, logger);

    const publish: Publish = async (id, events) => {
      if (overrides.skipImmediatePublish) return;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          relay.publishWritten(model, id, events),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`publish took over ${PUBLISH_WAIT_MS} ms`)), PUBLISH_WAIT_MS);
          }),
        ]);
      } catch (err) {
        // The event is safe in the outbox; the relay's sweep publishes it.
        logger.warn({ err, reservationId: id }, 'outbox: immediate publish failed; the sweep will retry');
      } finally {
        clearTimeout(timer);
      }
    };

    const saga = new ReservationSaga({ data, items: deps.items, rentals: deps.rentals, publish, logger });
    const reserving = new Admission({
      name: 'createReservation',
      concurrency: config.RESERVE_CONCURRENCY,
      queue: config.RESERVE_QUEUE,
      retryAfterSeconds: config.RESERVE_RETRY_AFTER_SECONDS,
    });
    const sweeper = new SagaSweeper({ data, saga, sweepMs: config.SAGA_SWEEP_MS, staleMs: config.SAGA_STALE_MS, logger });
    relay.start();
    if (!overrides.disableSweeper) sweeper.start();

    const ownBus = bus;
    const ownDeps = deps;
    const server = await startSubgraph<ReservationsContext>({
      name: 'reservations',
      typeDefs,
      resolvers,
      host: config.HOST,
      port: overrides.port ?? config.RESERVATIONS_PORT,
      internalSecret: config.INTERNAL_JWT_SECRET,
      logger,
      production: config.NODE_ENV === 'production',
      context: (base) => ({
        ...base,
        data,
        saga,
        reserving,
        views,
        feed: ownFeed,
        sequences: ownSequences,
        parties,
        changeLogReads,
        viewCache: new Map(),
        reservationById: reservationLoader(data),
      }),
      subscriptions: true,
      readinessChecks: [() => isDatabaseUp(conn)],
      shutdownDelayMs: config.SHUTDOWN_DELAY_MS,
      requestDeadlineMs: config.REQUEST_DEADLINE_MS,
      httpTimeouts: config,
      dependencyGraceMs: config.DB_LOSS_GRACE_MS,
      async onStop() {
        await sweeper.stop();
        await relay.stop();
        ownDeps.shutdown();
        await ownBus.close();
        await ownFeed.close();
        await ownSequences.close();
        await conn.close();
      },
    });
    return { ...server, dbName, data, saga, sweeper, relay, bus, views, feed, breakers: deps.breakers };
  } catch (err) {
    deps?.shutdown();
    await feed?.close().catch(() => undefined);
    await sequences?.close().catch(() => undefined);
    await bus?.close().catch(() => undefined);
    await conn.close().catch(() => undefined);
    throw err;
  }
}
