/**
 * The router's limits as configured: the per-operation limits
 * (MAX_DEPTH … COST_DEFAULT_LIST_SIZE, operation.ts) and the per-caller
 * mutation rate limit (rate-limit.ts), which needs Redis and is on by
 * default in production only (tests and local load runs use one user for
 * many writes). Start-up logs when the rate limit is off and why.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '@rental/observability';
import type { RouterConfig } from '../config.js';
import type { OperationLimits } from './operation.js';
import { MutationRateLimiter } from './rate-limit.js';

/** The operation limits, applied alike over HTTP and WebSocket. */
export function operationLimits(config: RouterConfig): OperationLimits {
  return {
    maxDepth: config.MAX_DEPTH,
    maxAliases: config.MAX_ALIASES,
    maxRootFields: config.MAX_ROOT_FIELDS,
    maxTokens: config.MAX_TOKENS,
    maxCost: config.MAX_COST,
    defaultListSize: config.COST_DEFAULT_LIST_SIZE,
  };
}

/**
 * The mutation rate limiter: RATE_LIMIT_MUTATIONS_PER_MINUTE (default 120
 * in production, else 0) per caller, in Redis shared by every replica.
 * Undefined, and logged, without Redis or at 0.
 */
export function mutationRateLimiter(config: RouterConfig, redis: Redis | undefined, logger: Logger): MutationRateLimiter | undefined {
  const mutationsPerMinute = config.RATE_LIMIT_MUTATIONS_PER_MINUTE ?? (config.NODE_ENV === 'production' ? 120 : 0);
  if (redis && mutationsPerMinute > 0) {
    return new MutationRateLimiter(redis, `${config.ROUTER_REDIS_PREFIX}:`, mutationsPerMinute, logger);
  }
  logger.info(
    { redis: Boolean(redis), mutationsPerMinute },
    'mutation rate limit off (needs REDIS_URL and RATE_LIMIT_MUTATIONS_PER_MINUTE > 0)',
  );
  return undefined;
}
