/**
 * `startRentals`: the API process. Connects the rentals database (indexes
 * included), starts the outbox relay (flush after each write, at start-up and
 * every `OUTBOX_SWEEP_MS`) and serves the subgraph. Tests call it with port 0
 * and their own database prefix.
 */
import { isDatabaseUp } from '@rental/db';
import { createLogger } from '@rental/observability';
import { startSubgraph, type RunningSubgraph } from '@rental/subgraph-server';
import type { RentalsConfig } from './config.js';
import { createContext } from './context.js';
import { resolvers } from './resolvers.js';
import { openRuntime, type RentalsOverrides, type RentalsRuntime } from './runtime.js';
import { typeDefs } from './schema.js';

export { typeDefs, resolvers };
export type { RentalsOverrides };

export interface StartRentalsOptions extends RentalsOverrides {
  /** Port to listen on instead of RENTALS_PORT (0: any free port). */
  port?: number;
}

export interface RunningRentals extends RunningSubgraph {
  /** The database the subgraph uses (tests drop it). */
  dbName: string;
  runtime: RentalsRuntime;
}

export async function startRentals(config: RentalsConfig, opts: StartRentalsOptions = {}): Promise<RunningRentals> {
  const logger = opts.logger ?? createLogger('rentals', config.LOG_LEVEL);
  const runtime = await openRuntime(config, opts, logger);
  try {
    runtime.relay.start();
    const server = await startSubgraph({
      name: 'rentals',
      typeDefs,
      resolvers,
      host: config.HOST,
      port: opts.port ?? config.RENTALS_PORT,
      internalSecret: config.INTERNAL_JWT_SECRET,
      logger,
      production: config.NODE_ENV === 'production',
      context: (base) => createContext(base, runtime.data, runtime.service),
      readinessChecks: [() => isDatabaseUp(runtime.conn)],
      shutdownDelayMs: config.SHUTDOWN_DELAY_MS,
      requestDeadlineMs: config.REQUEST_DEADLINE_MS,
      httpTimeouts: config,
      dependencyGraceMs: config.DB_LOSS_GRACE_MS,
      onStop: () => runtime.close(),
    });
    return { ...server, dbName: runtime.dbName, runtime };
  } catch (err) {
    await runtime.close().catch(() => undefined);
    throw err;
  }
}
