/** The items subgraph's environment. */
import { commonShape, env, mongoShape, type z } from '@rental/config';

export const itemsConfigShape = {
  ...commonShape,
  ...mongoShape,
  ITEMS_PORT: env.port(4001),
};

export type ItemsConfig = z.infer<z.ZodObject<typeof itemsConfigShape>>;
