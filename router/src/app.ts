/**
 * The router: Apollo Server running `@apollo/gateway` over the supergraph
 * file, on an Express app with `/graphql`, `/healthz`, `/readyz`, `/metrics`.
 *
 * Subscriptions run over graphql-ws on the same `/graphql` path (a WebSocket
 * server on the same `node:http` server; see subscriptions/server.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloGateway } from '@apollo/gateway';
import { AuthError, InternalIdentitySigner, type Identity } from '@rental/auth';
import { serverTimeouts } from '@rental/config';
import { createLogger, type Logger } from '@rental/observability';
import type { RouterConfig } from './config.js';
import { IdentityDataSource } from './datasource.js';
import { accessLogPlugin } from './access-log.js';
import { formatError } from './errors.js';
import { RouterHealth } from './health.js';
import { requestIdFrom, type RouterContext } from './identity.js';
import { createTokenVerifier } from './auth/settings.js';
import { KeySetUnavailableError } from './auth/verifier.js';
import { parseOptions, shapeRule, type OperationLimits } from './limits/operation.js';
import { CostDirectives } from './limits/cost.js';
import { limitsPlugin } from './limits/plugin.js';
import { MutationRateLimiter } from './limits/rate-limit.js';
import { RedisKeyValueCache, connectRedis } from './limits/redis.js';
import { SERVICE, errorCounter, metrics, requestCounter, requestDuration } from './metrics.js';
import { checkOverrides, readSupergraph, supergraphHook, type SubgraphEndpoint } from './supergraph.js';
import { sandboxWithSubscriptions } from './sandbox.js';
import { UpstreamRegistry } from './upstreams/pool.js';
import { SubgraphConnections } from './upstreams/connections.js';
import { SubscriptionPlanner } from './subscriptions/planner.js';
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

function graphqlErrorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/** CORS for the configured origins only; `*` allows any origin. */
function cors(origins: string[]): express.RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.header('origin');
    if (origin && (any || allowed.has(origin))) {
      res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
      if (!any) res.append('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'x-request-id');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.setHeader(
          'Access-Control-Allow-Headers',
          req.header('access-control-request-headers') ??
            'content-type, authorization, apollo-require-preflight, x-apollo-operation-name, x-request-id',
        );
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

/** Counts and times every operation, and every error by code. */
function metricsPlugin(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const operation = rc.operationName ?? 'anonymous';
          const errors = rc.response.body.kind === 'single' ? (rc.response.body.singleResult.errors ?? []) : [];
          for (const e of errors) errorCounter.inc({ service: SERVICE, code: String(e.extensions?.code ?? 'UNKNOWN') });
          requestCounter.inc({ service: SERVICE, operation, code: String(errors[0]?.extensions?.code ?? 'OK') });
          requestDuration.observe({ service: SERVICE, operation }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}

/** `100kb`/`1mb`/`512b` → bytes (the syntax BODY_LIMIT is checked against). */
function bytes(limit: string): number {
  const m = /^(\d+)(b|kb|mb)$/i.exec(limit);
  const unit = m?.[2]?.toLowerCase();
  return Number(m?.[1] ?? 1) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

/** Starts the router and resolves once the gateway has loaded and the server listens. */
export async function startRouter(config: RouterConfig, options: RouterOptions = {}): Promise<RunningRouter> {
  const logger = options.logger ?? createLogger(SERVICE, config.LOG_LEVEL);
  const production = config.NODE_ENV === 'production';
  // People's tokens: JWT_SECRET (HS256) or JWKS_URL; production refuses HS256 unless allowed (auth/settings.ts).
  const verifier = createTokenVerifier(config);
  const limits: OperationLimits = {
    maxDepth: config.MAX_DEPTH,
    maxAliases: config.MAX_ALIASES,
    maxRootFields: config.MAX_ROOT_FIELDS,
    maxTokens: config.MAX_TOKENS,
    maxCost: config.MAX_COST,
    defaultListSize: config.COST_DEFAULT_LIST_SIZE,
  };
  // Redis (optional): the mutation rate limit and the APQ cache shared by all replicas.
  const redis = config.REDIS_URL ? connectRedis(config.REDIS_URL, logger) : undefined;
  const redisPrefix = `${config.ROUTER_REDIS_PREFIX}:`;
  const mutationsPerMinute = config.RATE_LIMIT_MUTATIONS_PER_MINUTE ?? (production ? 120 : 0);
  const rateLimiter =
    redis && mutationsPerMinute > 0 ? new MutationRateLimiter(redis, redisPrefix, mutationsPerMinute, logger) : undefined;
  if (!rateLimiter) {
    logger.info(
      { redis: Boolean(redis), mutationsPerMinute },
      'mutation rate limit off (needs REDIS_URL and RATE_LIMIT_MUTATIONS_PER_MINUTE > 0)',
    );
  }

  const supergraphSdl = readSupergraph(config.SUPERGRAPH_PATH);
  const subgraphs = checkOverrides(supergraphSdl, config.SUBGRAPH_URLS);
  const watch =
    config.SUPERGRAPH_WATCH !== undefined
      ? config.SUPERGRAPH_WATCH === 'true' || config.SUPERGRAPH_WATCH === '1'
      : config.NODE_ENV === 'development';

  const signer = new InternalIdentitySigner(config.INTERNAL_JWT_SECRET, 'router');
  // The gateway's fetches and the subscription executor's go through the same data sources.
  // Every subgraph gets a pool of its URLs (`name=url|url`): spread, skip down ones, retry queries.
  const upstreams = new UpstreamRegistry({
    downMs: config.SUBGRAPH_DOWN_MS,
    healthPath: config.SUBGRAPH_HEALTH_PATH,
    healthIntervalMs: config.SUBGRAPH_HEALTH_INTERVAL_MS,
    logger,
  });
  // Keep-alive connections to the subgraphs, closed when idle before a subgraph would close them.
  const connections = new SubgraphConnections(config.SUBGRAPH_IDLE_TIMEOUT_MS);
  const buildService = ({ name, url }: { name: string; url?: string }) => {
    const spec = config.SUBGRAPH_URLS[name] ?? url ?? '';
    return new IdentityDataSource(name, spec, signer, logger, {
      fetcher: connections.fetcher,
      dedupe: config.SUBGRAPH_DEDUPE,
      ...(spec ? { pool: upstreams.get(name, spec) } : {}),
    });
  };
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphHook({
      path: config.SUPERGRAPH_PATH,
      initialSdl: supergraphSdl,
      overrides: config.SUBGRAPH_URLS,
      watch,
      logger,
    }),
    buildService,
  });
  // Subscriptions plan against whatever supergraph the gateway has loaded.
  const planner = new SubscriptionPlanner(config.SUBGRAPH_URLS, buildService, (name, spec) =>
    spec.includes('|') ? upstreams.get(name, spec).pick() : spec,
  );
  planner.limits = limits;
  // Demand control reads @cost/@listSize from the supergraph being served (limits/cost.ts).
  let costDirectives = CostDirectives.fromSupergraph(supergraphSdl);
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    costDirectives = CostDirectives.fromSupergraph(coreSupergraphSdl);
    try {
      planner.update(coreSupergraphSdl);
    } catch (err) {
      logger.error({ err }, 'subscription planner could not load the supergraph; keeping the previous one');
    }
  });

  const app = express();
  // Express hashes every response body (SHA-1) for an ETag; GraphQL POST answers are never revalidated.
  app.set('etag', false);
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // KEEP_ALIVE_TIMEOUT_MS above the load balancer's idle timeout, HEADERS_TIMEOUT_MS above that.
  const httpServer = http.createServer(serverTimeouts(config), app);
  const health = new RouterHealth();

  const apollo = new ApolloServer<RouterContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    csrfPrevention: true,
    // One operation per request: a batch would multiply every per-operation limit.
    allowBatchedHttpRequests: false,
    parseOptions: parseOptions(limits),
    validationRules: [shapeRule(limits)],
    // Automatic persisted queries; in Redis when there is one, so every replica knows every hash.
    persistedQueries: {
      ttl: config.APQ_TTL_SECONDS,
      ...(redis ? { cache: new RedisKeyValueCache(redis, `${redisPrefix}apq:`, logger) } : {}),
    },
    // Shutdown is ours (stop() below): readiness first, then drain.
    stopOnTerminationSignals: false,
    formatError: formatError(logger, production),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.DRAIN_TIMEOUT_MS }),
      production
        ? ApolloServerPluginLandingPageDisabled()
        : sandboxWithSubscriptions(ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })),
      metricsPlugin(),
      accessLogPlugin(logger),
      limitsPlugin(limits, () => costDirectives, rateLimiter),
    ],
  });
  await apollo.start();
  health.loaded = true;

  app.get('/healthz', (_req, res) => {
    const live = health.live();
    res.status(live.ok ? 200 : 503).json({ status: live.ok ? 'ok' : 'stalled', ...live });
  });
  app.get('/readyz', (_req, res) => {
    const ready = health.ready();
    res.status(ready.ok ? 200 : 503).json({ status: ready.ok ? 'ready' : 'not ready', ...ready });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.contentType);
    res.send(await metrics.metrics());
  });

  app.use(
    '/graphql',
    cors(config.CORS_ORIGINS),
    (req, res, next) => {
      const requestId = requestIdFrom(req.header('x-request-id'));
      res.setHeader('x-request-id', requestId);
      res.locals.requestId = requestId;
      next();
    },
    express.json({ limit: config.BODY_LIMIT }),
    // Authentication: no header → ANONYMOUS; a bad token → HTTP 401 with a
    // GraphQL-shaped UNAUTHENTICATED error and no data (nothing is executed).
    async (req, res, next) => {
      try {
        res.locals.identity = (await verifier.authenticate(req.header('authorization'))).identity;
        next();
      } catch (err) {
        if (err instanceof KeySetUnavailableError) {
          errorCounter.inc({ service: SERVICE, code: 'SERVICE_UNAVAILABLE' });
          res.status(503).setHeader('Retry-After', '5').json(graphqlErrorBody(err.message, 'SERVICE_UNAVAILABLE'));
          return;
        }
        const message = err instanceof AuthError ? err.message : 'unauthenticated';
        errorCounter.inc({ service: SERVICE, code: 'UNAUTHENTICATED' });
        requestCounter.inc({ service: SERVICE, operation: 'unauthenticated', code: 'UNAUTHENTICATED' });
        res.status(401).setHeader('WWW-Authenticate', 'Bearer').json(graphqlErrorBody(message, 'UNAUTHENTICATED'));
      }
    },
    expressMiddleware(apollo, {
      context: async ({ req, res }) => ({
        identity: res.locals.identity as Identity,
        requestId: res.locals.requestId as string,
        ...(req.socket.remoteAddress ? { clientIp: req.socket.remoteAddress } : {}),
      }),
    }),
  );
  app.use((_req, res) => {
    res.status(404).json(graphqlErrorBody('Not found: the GraphQL endpoint is /graphql', 'NOT_FOUND'));
  });
  // Body errors (malformed JSON, too large): a GraphQL-shaped client error, never a stack.
  app.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { status?: number; type?: string };
    const status = e.status ?? 500;
    if (status >= 400 && status < 500) {
      const message =
        e.type === 'entity.too.large'
          ? `Request body larger than ${config.BODY_LIMIT}`
          : e.type === 'entity.parse.failed'
            ? 'Malformed JSON in request body'
            : 'Bad request';
      errorCounter.inc({ service: SERVICE, code: 'BAD_REQUEST' });
      res.status(status).json(graphqlErrorBody(message, 'BAD_REQUEST'));
      return;
    }
    logger.error({ err }, 'unhandled http error');
    res.status(500).json(graphqlErrorBody('Internal server error', 'INTERNAL_SERVER_ERROR'));
  });

  const subscriptions = startSubscriptionServer({
    httpServer,
    planner,
    apollo,
    authenticate: (authorization) => verifier.authenticate(authorization),
    signer,
    logger,
    production,
    maxSubscriptionsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    keepAliveMs: config.WS_KEEPALIVE_MS,
    maxBufferedMessages: config.WS_MAX_BUFFERED_MESSAGES,
    subscribeRates: { perConnection: config.WS_SUBSCRIBES_PER_SECOND, perCaller: config.WS_SUBSCRIBES_PER_SECOND_PER_CALLER },
    maxPayload: bytes(config.BODY_LIMIT),
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.ROUTER_PORT, config.HOST, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${config.HOST}:${port}/graphql`;
  logger.info({ url, subgraphs }, 'router listening');

  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    httpServer,
    gateway,
    health,
    subgraphs,
    subscriptions,
    authenticate: async (authorization) => (await verifier.authenticate(authorization)).identity,
    stop() {
      stopped ??= (async () => {
        health.draining = true;
        if (config.SHUTDOWN_DELAY_MS > 0) await new Promise((r) => setTimeout(r, config.SHUTDOWN_DELAY_MS));
        // WebSockets first (1012: clients reconnect elsewhere); the HTTP drain would otherwise wait on them.
        await subscriptions.close();
        // Closes the listener, waits for in-flight requests, then stops the gateway.
        await apollo.stop();
        upstreams.close();
        connections.close();
        await redis?.quit().catch(() => redis.disconnect());
        health.close();
        logger.info('router stopped');
      })();
      return stopped;
    },
  };
}
