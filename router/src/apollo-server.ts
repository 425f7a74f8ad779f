/**
 * Apollo Server as the router runs it, over the gateway:
 *
 * - no stack traces; introspection and Sandbox off in production (Sandbox
 *   elsewhere, with its subscription endpoint, sandbox.ts);
 * - CSRF prevention on; one operation per request (a batch would multiply
 *   every per-operation limit);
 * - the operation limits as a parse option (tokens), a validation rule
 *   (depth, aliases, root fields) and a plugin (cost, mutation rate),
 *   limits/;
 * - automatic persisted queries, in Redis when there is one so every
 *   replica knows every hash (`<ROUTER_REDIS_PREFIX>:apq:<hash>`);
 * - errors formatted by errors.ts; operations counted (metrics-plugin.ts)
 *   and logged (access-log.ts);
 * - shutdown is the router's (shutdown.ts): Apollo Server does not listen
 *   for signals, and its stop() drains the HTTP server
 *   (DRAIN_TIMEOUT_MS), then stops the gateway.
 */
import type http from 'node:http';
import type { Redis } from 'ioredis';
import type { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Logger } from '@rental/observability';
import { accessLogPlugin } from './access-log.js';
import type { RouterConfig } from './config.js';
import { formatError } from './errors.js';
import type { RouterContext } from './identity.js';
import type { CostDirectives } from './limits/cost.js';
import { parseOptions, shapeRule, type OperationLimits } from './limits/operation.js';
import { limitsPlugin } from './limits/plugin.js';
import type { MutationRateLimiter } from './limits/rate-limit.js';
import { RedisKeyValueCache } from './limits/redis.js';
import { metricsPlugin } from './metrics-plugin.js';
import { sandboxWithSubscriptions } from './sandbox.js';

/** What {@link createApolloServer} is built from. */
export interface ApolloServerParts {
  config: RouterConfig;
  gateway: ApolloGateway;
  /** Drained on stop(). */
  httpServer: http.Server;
  limits: OperationLimits;
  costDirectives: () => CostDirectives;
  rateLimiter: MutationRateLimiter | undefined;
  redis: Redis | undefined;
  logger: Logger;
}

/** Apollo Server over the gateway (not started). */
export function createApolloServer(parts: ApolloServerParts): ApolloServer<RouterContext> {
  const { config, limits, redis, logger } = parts;
  const production = config.NODE_ENV === 'production';
  return new ApolloServer<RouterContext>({
    gateway: parts.gateway,
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    parseOptions: parseOptions(limits),
    validationRules: [shapeRule(limits)],
    persistedQueries: {
      ttl: config.APQ_TTL_SECONDS,
      ...(redis ? { cache: new RedisKeyValueCache(redis, `${config.ROUTER_REDIS_PREFIX}:apq:`, logger) } : {}),
    },
    stopOnTerminationSignals: false,
    formatError: formatError(logger, production),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: parts.httpServer, stopGracePeriodMillis: config.DRAIN_TIMEOUT_MS }),
      production
        ? ApolloServerPluginLandingPageDisabled()
        : sandboxWithSubscriptions(ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })),
      metricsPlugin(),
      accessLogPlugin(logger),
      limitsPlugin(limits, parts.costDirectives, parts.rateLimiter),
    ],
  });
}
