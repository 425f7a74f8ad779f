/**
 * The stores subgraph's environment: the API process (`main.ts`) and the
 * worker (`worker-main.ts`) read the same shape.
 */
import { commonShape, env, subgraphShape, mongoShape, redisShape, workerShape, type z } from '@rental/config';

export const storesConfigShape = {
  ...commonShape,
  ...subgraphShape,
  ...mongoShape,
  ...redisShape,
  ...workerShape,
  STORES_PORT: env.port(4003),
  /** How often the outbox relay looks for events still unpublished (ms). */
  // Recovery only: every write publishes its own events at once; a sweep scans the collection.
  OUTBOX_SWEEP_MS: env.int(5000, 50),
  /** Jobs of `stores-events` handled at once by one worker process. */
  WORKER_CONCURRENCY: env.int(8, 1, 256),
};

export type StoresConfig = z.infer<z.ZodObject<typeof storesConfigShape>>;
