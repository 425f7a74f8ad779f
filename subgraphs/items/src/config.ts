/** The items subgraph's environment. */
import { commonShape, env, subgraphShape, mongoShape, type z } from '@rental/config';

export const itemsConfigShape = {
  ...commonShape,
  ...subgraphShape,
  ...mongoShape,
  ITEMS_PORT: env.port(4001),
  /** registerItem calls run at once in this process; the next one gets TRY_LATER at once (reads are not limited). */
  REGISTER_ITEM_CONCURRENCY: env.int(4, 1, 10_000),
  /** The `extensions.retryAfterSeconds` hint of that TRY_LATER. */
  REGISTER_ITEM_RETRY_AFTER_SECONDS: env.int(1, 1, 3_600),
  /** holdStock calls run at once in this process (admission control: the rest wait in a short queue). */
  HOLD_STOCK_CONCURRENCY: env.int(8, 1, 10_000),
  /** holdStock calls waiting for a slot at most; the next one gets TRY_LATER at once. */
  HOLD_STOCK_QUEUE: env.int(64, 0, 100_000),
  /** The `extensions.retryAfterSeconds` hint of a holdStock TRY_LATER. */
  HOLD_STOCK_RETRY_AFTER_SECONDS: env.int(1, 1, 3_600),
};

export type ItemsConfig = z.infer<z.ZodObject<typeof itemsConfigShape>>;
