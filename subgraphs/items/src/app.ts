/**
 * `startItems`: connects the items database, makes sure its indexes exist,
 * and serves the subgraph. Tests call it with port 0 and their own database.
 */
import { connectDatabase, databaseName, isDatabaseUp } from '@rental/db';
import { createLogger, type Logger } from '@rental/observability';
import { Admission, startSubgraph, type RunningSubgraph } from '@rental/subgraph-server';
import type { ItemsConfig } from './config.js';
import { createContext } from './context.js';
import { ItemsData, itemModel } from './data/index.js';
import { resolvers } from './resolvers.js';
import { typeDefs } from './schema.js';

export { typeDefs, resolvers };

export interface ItemsOverrides {
  /** Port to listen on instead of ITEMS_PORT (0: any free port). */
  port?: number;
  /** Full database name; wins over `dbPrefix`. */
  dbName?: string;
  /** Database name prefix (the name becomes `<prefix>_items`). */
  dbPrefix?: string;
  logger?: Logger;
}

export interface RunningItems extends RunningSubgraph {
  /** The database the subgraph uses (tests drop it). */
  dbName: string;
}

export async function startItems(config: ItemsConfig, overrides: ItemsOverrides = {}): Promise<RunningItems> {
  const logger = overrides.logger ?? createLogger('items', config.LOG_LEVEL);
  const dbName = overrides.dbName ?? databaseName('items', overrides.dbPrefix);
  const conn = await connectDatabase(config.MONGODB_URI, dbName);
  try {
    const model = itemModel(conn);
    await model.init();
    const items = new ItemsData(model);
    const gates = {
      registrations: new Admission({
        name: 'Product registration',
        concurrency: config.REGISTER_ITEM_CONCURRENCY,
        queue: 0,
        retryAfterSeconds: config.REGISTER_ITEM_RETRY_AFTER_SECONDS,
      }),
      holds: new Admission({
        name: 'holdStock',
        concurrency: config.HOLD_STOCK_CONCURRENCY,
        queue: config.HOLD_STOCK_QUEUE,
        retryAfterSeconds: config.HOLD_STOCK_RETRY_AFTER_SECONDS,
      }),
    };
    const server = await startSubgraph({
      name: 'items',
      typeDefs,
      resolvers,
      host: config.HOST,
      port: overrides.port ?? config.ITEMS_PORT,
      internalSecret: config.INTERNAL_JWT_SECRET,
      logger,
      production: config.NODE_ENV === 'production',
      context: (base) => createContext(base, items, gates),
      readinessChecks: [() => isDatabaseUp(conn)],
      shutdownDelayMs: config.SHUTDOWN_DELAY_MS,
      requestDeadlineMs: config.REQUEST_DEADLINE_MS,
      httpTimeouts: config,
      dependencyGraceMs: config.DB_LOSS_GRACE_MS,
      onStop: () => conn.close(),
    });
    return { ...server, dbName };
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}
