/**
 * Typed, validated configuration from the environment.
 *
 * Every deployable declares the variables it reads as a zod object built from
 * the field helpers below, then calls {@link loadConfig}. A missing or bad value
 * stops the process with one message that names each offending variable and
 * exit code 1, so a misconfigured pod fails at start, not at first request.
 */
import { z } from 'zod';

export { z };

/** Field helpers: each parses a raw environment string into a typed value. */
export const env = {
  /** A TCP port, 0 meaning "any free port" (tests use that). */
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  /** A positive integer, with its default. */
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  /** A URL with one of the given schemes. */
  url: (schemes: string[]) =>
    z
      .string()
      .trim()
      .refine((v) => {
        try {
          return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      }, `must be a URL with scheme ${schemes.join(' or ')}`),
  /** A secret of at least `min` characters. */
  secret: (min = 32) => z.string().min(min, `must be at least ${min} characters`),
  /** "true"/"false"/"1"/"0". */
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  /** A comma-separated list of strings. */
  list: (fallback: string[] = []) =>
    z
      .string()
      .default(fallback.join(','))
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  nodeEnv: () => z.enum(['development', 'test', 'production']).default('development'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** Thrown by {@link parseConfig}; its message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `source` (default `process.env`) against `shape`; throws {@link ConfigError}. */
export function parseConfig<S extends z.ZodRawShape>(
  shape: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const v = source[key];
    if (v !== undefined && v !== '') cleaned[key] = v;
  }
  const result = z.object(shape).safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const name = i.path.join('.');
    const msg = i.code === 'invalid_type' && i.received === 'undefined' ? 'is required but not set' : i.message;
    return `${name}: ${msg}`;
  });
  throw new ConfigError(problems);
}

/** Like {@link parseConfig}, but prints the problem and exits with code 1. */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  try {
    return parseConfig(shape, source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Variables every service reads. */
export const commonShape = {
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  HOST: z.string().default('127.0.0.1'),
  /** HS256 secret the router and its subgraphs share to sign the internal identity token. */
  INTERNAL_JWT_SECRET: env.secret(32),
  /** On SIGTERM: how long readiness fails before the port closes and draining starts (load balancers notice). */
  SHUTDOWN_DELAY_MS: env.int(0, 0, 60_000),
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
