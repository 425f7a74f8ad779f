/**
 * The router's composition root: it reads the configuration, builds each
 * part (the modules named below say how each one works) and wires them in
 * order. `/graphql` is Apollo Server running `@apollo/gateway` over the
 * supergraph file, behind CORS, a request id, the body limit and
 * authentication; `/healthz`, `/readyz` and `/metrics` sit beside it; every
 * other path is a GraphQL-shaped 404. Subscriptions run over graphql-ws on
 * the same `/graphql` path (a WebSocket server on the same `node:http`
 * server; see subscriptions/server.ts).
 */
import type http from 'node:http';
import type { ApolloGateway } from '@apollo/gateway';
import { expressMiddleware } from '@as-integrations/express5';
import { InternalIdentitySigner, type Identity } from '@rental/auth';
import { createLogger, type Logger } from '@rental/observability';
import { createApolloServer } from './apollo-server.js';
import { createTokenVerifier } from './auth/settings.js';
import type { RouterConfig } from './config.js';
import { createFederation } from './gateway.js';
import { RouterHealth } from './health.js';
import { authenticateRequests } from './http/auth.js';
import { bodyLimitBytes, jsonBody } from './http/body.js';
import { graphqlContext } from './http/context.js';
import { corsFor } from './http/cors.js';
import { httpErrors, notFound } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { metricsRoute } from './http/metrics.js';
import { requestId } from './http/request-id.js';
import { createHttpServer, listen } from './http/server.js';
import { mutationRateLimiter, operationLimits } from './limits/configure.js';
import { connectRedis } from './limits/redis.js';
import { SERVICE } from './metrics.js';
import { shutdown } from './shutdown.js';
import { SubgraphServices } from './subgraph-services.js';
import { checkOverrides, readSupergraph, type SubgraphEndpoint } from './supergraph.js';
import { startSubscriptionServer, type SubscriptionServer } from './subscriptions/server.js';

export interface RunningRouter {
  /** `http://host:port/graphql` */
  url: string;
  port: number;
  httpServer: http.Server;
  gateway: ApolloGateway;
  health: RouterHealth;
  /** The subgraphs served and the URLs the router calls them at. */
  subgraphs: SubgraphEndpoint[];
  /** graphql-ws on `/graphql` (open connections; closing them is part of `stop()`). */
  subscriptions: SubscriptionServer;
  /** Authenticates an `Authorization` header value (for other transports, e.g. WebSocket). */
  authenticate(authorization: string | undefined): Promise<Identity>;
  /** Readiness fails, in-flight requests finish (up to DRAIN_TIMEOUT_MS), then everything closes. */
  stop(): Promise<void>;
}

export interface RouterOptions {
  logger?: Logger;
}

/** Starts the router and resolves once the gateway has loaded and the server listens. */
export async function startRouter(config: RouterConfig, options: RouterOptions = {}): Promise<RunningRouter> {
  const logger = options.logger ?? createLogger(SERVICE, config.LOG_LEVEL);
  // People's tokens: JWT_SECRET (HS256) or JWKS_URL; production refuses HS256 unless allowed (auth/settings.ts).
  const verifier = createTokenVerifier(config);
  const limits = operationLimits(config);
  // Redis (optional): the mutation rate limit and the APQ cache shared by all replicas.
  const redis = config.REDIS_URL ? connectRedis(config.REDIS_URL, logger) : undefined;
  const rateLimiter = mutationRateLimiter(config, redis, logger);
  const supergraphSdl = readSupergraph(config.SUPERGRAPH_PATH);
  const subgraphs = checkOverrides(supergraphSdl, config.SUBGRAPH_URLS);
  const signer = new InternalIdentitySigner(config.INTERNAL_JWT_SECRET, 'router');
  const services = new SubgraphServices(config, signer, logger);
  const { gateway, planner, costDirectives } = createFederation(config, supergraphSdl, services, limits, logger);

  const { app, httpServer } = createHttpServer(config);
  const health = new RouterHealth();
  const apollo = createApolloServer({ config, gateway, httpServer, limits, costDirectives, rateLimiter, redis, logger });
  await apollo.start();
  health.loaded = true;

  app.use(healthRoutes(health), metricsRoute());
  app.use(
    '/graphql',
    corsFor(config.CORS_ORIGINS),
    requestId,
    jsonBody(config.BODY_LIMIT),
    authenticateRequests(verifier),
    expressMiddleware(apollo, { context: graphqlContext }),
  );
  app.use(notFound, httpErrors(config.BODY_LIMIT, logger));

  const subscriptions = startSubscriptionServer({
    httpServer,
    planner,
    apollo,
    authenticate: (authorization) => verifier.authenticate(authorization),
    signer,
    logger,
    production: config.NODE_ENV === 'production',
    maxSubscriptionsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    keepAliveMs: config.WS_KEEPALIVE_MS,
    maxBufferedMessages: config.WS_MAX_BUFFERED_MESSAGES,
    subscribeRates: { perConnection: config.WS_SUBSCRIBES_PER_SECOND, perCaller: config.WS_SUBSCRIBES_PER_SECOND_PER_CALLER },
    maxPayload: bodyLimitBytes(config.BODY_LIMIT),
  });

  const port = await listen(httpServer, config.ROUTER_PORT, config.HOST);
  const url = `http://${config.HOST}:${port}/graphql`;
  logger.info({ url, subgraphs }, 'router listening');
  return {
    url,
    port,
    httpServer,
    gateway,
    health,
    subgraphs,
    subscriptions,
    authenticate: async (authorization) => (await verifier.authenticate(authorization)).identity,
    stop: shutdown({ health, shutdownDelayMs: config.SHUTDOWN_DELAY_MS, subscriptions, apollo, services, redis, logger }),
  };
}
