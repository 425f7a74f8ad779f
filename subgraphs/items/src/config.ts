/** The items subgraph's environment. */
import { commonShape, env, mongoShape, type z } from '@rental/config';

export const itemsConfigShape = {
  ...commonShape,
  ...mongoShape,
  ITEMS_PORT: env.port(4001),
  /** registerItem calls run at once in this process; the next one gets TRY_LATER at once (reads are not limited). */
  REGISTER_ITEM_CONCURRENCY: env.int(4, 1, 10_000),
  /** The `extensions.retryAfterSeconds` hint of that TRY_LATER. */
  REGISTER_ITEM_RETRY_AFTER_SECONDS: env.int(1, 1, 3_600),
};

export type ItemsConfig = z.infer<z.ZodObject<typeof itemsConfigShape>>;
