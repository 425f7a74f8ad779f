/** The rentals subgraph's environment (API process and worker). */
import { commonShape, env, subgraphShape, mongoShape, redisShape, workerShape, type z } from '@rental/config';

export const rentalsConfigShape = {
  ...commonShape,
  ...subgraphShape,
  ...mongoShape,
  ...redisShape,
  ...workerShape,
  RENTALS_PORT: env.port(4004),
  /** How long a charge or refund waits for the payment provider before giving up. */
  PAYMENT_PROVIDER_TIMEOUT_MS: env.int(2000, 1, 120_000),
  /** Period of the outbox relay's sweep. */
  // Recovery only: every write publishes its own events at once; a sweep scans the collection.
  OUTBOX_SWEEP_MS: env.int(5000, 10, 600_000),
};

export type RentalsConfig = z.infer<z.ZodObject<typeof rentalsConfigShape>>;
