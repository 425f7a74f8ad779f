/**
 * Typed, validated configuration from the environment.
 *
 * Every deployable declares the variables it reads as a zod object built from
 * the field helpers ({@link env}) and the shared shapes below, then calls
 * {@link loadConfig}. A missing or bad value
 * stops the process with one message that names each offending variable and
 * exit code 1, so a misconfigured pod fails at start, not at first request.
 */
import { env, z } from './fields.js';
import { httpServerShape } from './http.js';

export { env, z } from './fields.js';
export { ConfigError, type ConfigRule } from './errors.js';
export { parseConfig, loadConfig } from './parse.js';
export { subgraphShape, staleAfterDeadline, DEADLINE_MARGIN_MS } from './deadline.js';
export {
  httpServerShape,
  serverTimeouts,
  headersAfterKeepAlive,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  HEADERS_TIMEOUT_MARGIN_MS,
  type HttpServerSettings,
  type ServerTimeouts,
} from './http.js';

/** Variables every service reads. */
export const commonShape = {
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  HOST: z.string().default('127.0.0.1'),
  /** HS256 secret the router and its subgraphs share to sign the internal identity token. */
  INTERNAL_JWT_SECRET: env.secret(32),
  /** On SIGTERM: how long readiness fails before the port closes and draining starts (load balancers notice). */
  SHUTDOWN_DELAY_MS: env.int(0, 0, 60_000),
  /** KEEP_ALIVE_TIMEOUT_MS, HEADERS_TIMEOUT_MS of the process's HTTP servers (http.ts). */
  ...httpServerShape,
};

/** Variables a service backed by MongoDB reads. */
export const mongoShape = {
  MONGODB_URI: env.url(['mongodb', 'mongodb+srv']),
  /** Readiness fails at once when the database is unreachable; liveness only after it has been for this long. */
  DB_LOSS_GRACE_MS: env.int(30_000, 0, 3_600_000),
};

/** Variables of a worker process (event consumer). */
export const workerShape = {
  /**
   * Port of the worker's own HTTP server with `/healthz`, `/readyz` and
   * `/metrics` (0: any free port). Unset: no HTTP server.
   */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
};

/** Variables a service using Redis (queues, rate limits) reads. */
export const redisShape = {
  REDIS_URL: env.url(['redis', 'rediss']),
  /** BullMQ key prefix; lets several deployments (or test runs) share one Redis. */
  QUEUE_PREFIX: z.string().regex(/^[a-zA-Z0-9:_-]+$/, 'letters, digits, : _ - only').default('rental'),
};
