/** The reservations subgraph's environment (API process and worker). */
import { commonShape, env, subgraphShape, mongoShape, redisShape, workerShape, type z } from '@rental/config';

export const reservationsConfigShape = {
  ...commonShape,
  ...subgraphShape,
  ...mongoShape,
  ...redisShape,
  ...workerShape,
  RESERVATIONS_PORT: env.port(4002),
  ITEMS_URL: env.url(['http', 'https']).default('http://127.0.0.1:4001/graphql'),
  RENTALS_URL: env.url(['http', 'https']).default('http://127.0.0.1:4004/graphql'),
  /** Per attempt of a call to items. */
  ITEMS_TIMEOUT_MS: env.int(1500, 1),
  /** Per attempt of a call to rentals; must exceed rentals' PAYMENT_PROVIDER_TIMEOUT_MS (2000). */
  RENTALS_TIMEOUT_MS: env.int(4000, 1),
  /** Attempts after the first, for network errors, 5xx and timeouts. */
  CALL_RETRIES: env.int(2, 0, 10),
  /** First retry delay; doubles per retry, with jitter. */
  CALL_BACKOFF_MS: env.int(100, 0),
  /** How long an open breaker waits before a trial call. */
  BREAKER_RESET_MS: env.int(5000, 1),
  /** Failure percentage in the rolling window that opens a breaker. */
  BREAKER_ERROR_THRESHOLD_PCT: env.int(50, 1, 100),
  /** Calls in the rolling window before a breaker may open. */
  BREAKER_VOLUME_THRESHOLD: env.int(5, 0),
  /** The breaker's rolling statistics window. */
  BREAKER_ROLLING_MS: env.int(10_000, 100),
  /** Period of the stale-saga sweeper. */
  SAGA_SWEEP_MS: env.int(5000, 10),
  /** Age past which a PENDING reservation is settled by the sweeper; must exceed the longest saga. */
  SAGA_STALE_MS: env.int(30_000, 1),
  /** Period of the outbox relay's sweep. */
  OUTBOX_SWEEP_MS: env.int(5000, 10),
  /** Events handled at once by the worker. */
  WORKER_CONCURRENCY: env.int(8, 1, 256),
  /** createReservation sagas run at once in this API process (admission control). */
  RESERVE_CONCURRENCY: env.int(16, 1, 10_000),
  /** createReservation calls waiting for a slot at most; the next one gets TRY_LATER at once. */
  RESERVE_QUEUE: env.int(128, 0, 100_000),
  /** The `extensions.retryAfterSeconds` hint of a createReservation TRY_LATER. */
  RESERVE_RETRY_AFTER_SECONDS: env.int(1, 1, 3_600),
};

export type ReservationsConfig = z.infer<z.ZodObject<typeof reservationsConfigShape>>;
