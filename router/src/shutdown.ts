/**
 * The router's stop(), in the order that loses no request:
 *
 * 1. `/readyz` answers 503 at once (the load balancer stops sending work);
 * 2. after SHUTDOWN_DELAY_MS (the load balancer's time to notice), every
 *    WebSocket closes with 1012 "Service Restart": clients reconnect to
 *    another replica and re-subscribe with their last position. Sockets go
 *    first because the HTTP drain would otherwise wait on them;
 * 3. Apollo Server stops: the listener closes, idle keep-alive sockets close
 *    at once, in-flight requests finish (up to DRAIN_TIMEOUT_MS), then the
 *    gateway stops;
 * 4. subgraph pools and connections, Redis and the health timers close.
 *
 * Calling stop() again returns the same promise.
 */
import type { Redis } from 'ioredis';
import type { ApolloServer } from '@apollo/server';
import type { Logger } from '@rental/observability';
import type { RouterHealth } from './health.js';
import type { RouterContext } from './identity.js';
import type { SubgraphServices } from './subgraph-services.js';
import type { SubscriptionServer } from './subscriptions/server.js';

/** Everything stop() closes. */
export interface Closables {
  health: RouterHealth;
  shutdownDelayMs: number;
  subscriptions: SubscriptionServer;
  apollo: ApolloServer<RouterContext>;
  services: SubgraphServices;
  redis: Redis | undefined;
  logger: Logger;
}

/** The router's idempotent stop(). */
export function shutdown(parts: Closables): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      const { health, redis } = parts;
      health.draining = true;
      if (parts.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, parts.shutdownDelayMs));
      await parts.subscriptions.close();
      await parts.apollo.stop();
      parts.services.close();
      await redis?.quit().catch(() => redis.disconnect());
      health.close();
      parts.logger.info('router stopped');
    })();
    return stopped;
  };
}
