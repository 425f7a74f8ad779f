/** The rentals subgraph's environment (API process and worker). */
import { commonShape, env, subgraphShape, mongoShape, redisShape, workerShape, z } from '@rental/config';
import { PAYMENT_PROVIDERS } from './payments/from-config.js';

export const rentalsConfigShape = {
  ...commonShape,
  ...subgraphShape,
  ...mongoShape,
  ...redisShape,
  ...workerShape,
  RENTALS_PORT: env.port(4004),
  /** The payment provider that charges and refunds, one of those written in code (`payments/from-config.ts`). */
  PAYMENT_PROVIDER: z
    .enum(PAYMENT_PROVIDERS, {
      errorMap: (issue, ctx) => ({
        message: issue.code === 'invalid_enum_value' ? `must be one of ${PAYMENT_PROVIDERS.join(', ')}, got "${String(ctx.data)}"` : ctx.defaultError,
      }),
    })
    .default('sandbox'),
  /** Production only: start with PAYMENT_PROVIDER=sandbox, which moves no money. */
  ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION: env.bool(false),
  /** How long a charge or refund waits for the payment provider before giving up. */
  PAYMENT_PROVIDER_TIMEOUT_MS: env.int(2000, 1, 120_000),
  /** Period of the outbox relay's sweep. */
  // Recovery only: every write publishes its own events at once; a sweep scans the collection.
  OUTBOX_SWEEP_MS: env.int(5000, 10, 600_000),
};

export type RentalsConfig = z.infer<z.ZodObject<typeof rentalsConfigShape>>;
