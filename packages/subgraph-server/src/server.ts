/**
 * The HTTP server every subgraph runs: Apollo Server with a federation
 * subgraph schema on `/graphql`, plus `/healthz`, `/readyz` and `/metrics`.
 *
 * Every `/graphql` call must carry the router-signed identity header
 * ({@link IDENTITY_HEADER}); without a valid one the answer is HTTP 401 with
 * code `UNAUTHENTICATED`, so a subgraph's port reached directly yields nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { DocumentNode } from 'graphql';
import { attachSubscriptions, type SubscriptionServer } from './subscriptions.js';
import { AuthError, IDENTITY_HEADER, InternalIdentityVerifier, REQUEST_ID_HEADER, type Identity } from '@rental/auth';
import { httpServerShape, parseConfig, serverTimeouts, type HttpServerSettings } from '@rental/config';
import { errorCounter, metrics, requestCounter, requestDuration, type Logger } from '@rental/observability';
import { TIMEOUT_HEADER, requestDeadline } from './deadline.js';
import { formatError, toGraphQLError } from './errors.js';
import { HealthState } from './health.js';

/** What every resolver receives, before the subgraph adds its own parts. */
export interface BaseContext {
  /**
   * When the answer is due (epoch ms, this machine's clock): the caller's
   * `x-rental-timeout-ms` when it sent one, capped by `REQUEST_DEADLINE_MS`.
   */
  deadline: number;
  identity: Identity;
  requestId: string;
  logger: Logger;
}

export interface SubgraphOptions<Ctx extends BaseContext> {
  name: string;
  typeDefs: DocumentNode;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resolvers: GraphQLResolverMap<any>;
  host: string;
  port: number;
  internalSecret: string;
  logger: Logger;
  production: boolean;
  /** Adds the subgraph's own parts (data access, loaders) to each request's context. */
  context: (base: BaseContext) => Ctx | Promise<Ctx>;
  /** Dependency checks for `/readyz`. */
  readinessChecks?: Array<() => Promise<boolean>>;
  /** Called after HTTP has drained (close workers, then the database). */
  onStop?: () => Promise<void>;
  /** Largest request body accepted. */
  bodyLimit?: string;
  /**
   * Serve the schema's `Subscription` fields over graphql-ws on the same
   * `/graphql` path (WebSocket upgrade), see `subscriptions.ts`.
   */
  subscriptions?: boolean;
  /**
   * On stop: how long `/readyz` fails before the port closes (`SHUTDOWN_DELAY_MS`),
   * so load balancers and routers stop sending work first. Requests that still
   * come meanwhile are served (with `Connection: close`). Default 0.
   */
  shutdownDelayMs?: number;
  /** Liveness fails after the readiness checks have failed this long (`DB_LOSS_GRACE_MS`). Default 30000. */
  dependencyGraceMs?: number;
  /**
   * `KEEP_ALIVE_TIMEOUT_MS` and `HEADERS_TIMEOUT_MS` (pass the service's config).
   * Unset: read from the process environment through the same shape, which
   * the service's config already validated at start (defaults 65000 / +5000).
   */
  httpTimeouts?: HttpServerSettings;
  /** `REQUEST_DEADLINE_MS`: the longest a request may take here. Default 10000. */
  requestDeadlineMs?: number;
}

export interface RunningSubgraph {
  url: string;
  port: number;
  health: HealthState;
  /** A closure (no `this`): safe to pass on unbound, as `onShutdownSignals(running.stop)` does. */
  stop: () => Promise<void>;
}

/** Starts a subgraph server and resolves once it listens. */
export async function startSubgraph<Ctx extends BaseContext>(opts: SubgraphOptions<Ctx>): Promise<RunningSubgraph> {
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every response body (SHA-1) for an ETag; GraphQL POST answers are never revalidated.
  app.set('etag', false);
  // Keep-alive above the load balancer's idle timeout, headers timeout above that (@rental/config http.ts).
  const httpServer = http.createServer(serverTimeouts(opts.httpTimeouts ?? parseConfig(httpServerShape)), app);
  const health = new HealthState(opts.readinessChecks ?? [], { dependencyGraceMs: opts.dependencyGraceMs });

  // The router reuses a token for up to half its life: verify each token once, not on every request.
  const verifier = new InternalIdentityVerifier(opts.internalSecret);

  const schema = buildSubgraphSchema([{ typeDefs: opts.typeDefs, resolvers: opts.resolvers }]);
  const subscriptions: SubscriptionServer | undefined = opts.subscriptions
    ? attachSubscriptions({
        httpServer,
        schema,
        verifier,
        logger: opts.logger,
        production: opts.production,
        context: opts.context,
        name: opts.name,
        ...(opts.requestDeadlineMs !== undefined ? { requestDeadlineMs: opts.requestDeadlineMs } : {}),
      })
    : undefined;

  const apollo = new ApolloServer<Ctx>({
    schema,
    includeStacktraceInErrorResponses: false,
    // onShutdownSignals owns SIGTERM/SIGINT. Apollo's own handler would call stop() concurrently
    // with ours, and a second concurrent ApolloServer.stop() never resolves (its barrier is only
    // resolved on failure), so the drain would hang until the grace timeout.
    stopOnTerminationSignals: false,
    introspection: !opts.production,
    csrfPrevention: true,
    formatError: formatError(opts.logger, opts.production),
    plugins: [
      // Sockets first (closed 1012 so clients reconnect elsewhere), then the HTTP connections drain.
      ...(subscriptions ? [{ serverWillStart: async () => ({ drainServer: () => subscriptions.close() }) }] : []),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // Federated tracing (ftv1) is only for Apollo Studio usage reporting, which we do not use.
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart() {
          const started = process.hrtime.bigint();
          return {
            async willSendResponse(rc) {
              const operation = rc.operationName ?? 'anonymous';
              // Domain and auth errors get their code in formatError; read it from the original error here.
              const codeOf = (e: { extensions?: Record<string, unknown>; originalError?: unknown }) => {
                const code = e.extensions?.code ?? toGraphQLError(e.originalError)?.extensions.code;
                return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
              };
              const code = rc.errors?.[0] ? codeOf(rc.errors[0]) : 'OK';
              const seconds = Number(process.hrtime.bigint() - started) / 1e9;
              requestCounter.inc({ service: opts.name, operation, code });
              requestDuration.observe({ service: opts.name, operation }, seconds);
              for (const e of rc.errors ?? []) errorCounter.inc({ service: opts.name, code: codeOf(e) });
              // Access log: one line per operation, with the request id the router sent.
              const requestId = (rc.contextValue as Partial<BaseContext> | undefined)?.requestId;
              opts.logger.info({ requestId, operation, code, ms: Math.round(seconds * 1000) }, 'graphql operation');
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    const live = health.live();
    res.status(live.ok ? 200 : 503).json({ status: live.ok ? 'ok' : 'unhealthy', ...live });
  });
  // While draining, every answer closes its connection, so keep-alive clients open new ones elsewhere.
  app.use((_req, res, next) => {
    if (health.draining) res.setHeader('Connection', 'close');
    next();
  });
  app.get('/readyz', async (_req, res) => {
    const ready = await health.ready();
    res.status(ready.ok ? 200 : 503).json({ status: ready.ok ? 'ready' : 'not ready', ...ready });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.contentType);
    res.send(await metrics.metrics());
  });

  app.use(
    '/graphql',
    express.json({ limit: opts.bodyLimit ?? '100kb' }),
    async (req, res, next) => {
      // The deadline counts from arrival, before the body and the identity are checked.
      res.locals.deadline = requestDeadline(req.header(TIMEOUT_HEADER), opts.requestDeadlineMs ?? 10_000);
      const token = req.header(IDENTITY_HEADER);
      try {
        if (!token) throw new AuthError('calls must come through the router or a trusted service');
        res.locals.identity = await verifier.verify(token);
        next();
      } catch (err) {
        const message = err instanceof AuthError ? err.message : 'unauthenticated';
        res.status(401).json({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
      }
    },
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = req.header(REQUEST_ID_HEADER) ?? randomUUID();
        const identity = res.locals.identity as Identity;
        const logger = opts.logger.child({ requestId, caller: identity.sub });
        return opts.context({ identity, requestId, logger, deadline: res.locals.deadline as number});
      },
    }),
  );
  // Malformed JSON bodies: a clear client error, never a stack trace.
  app.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = (err as { status?: number }).status ?? 500;
    if (status >= 400 && status < 500) {
      res.status(status).json({ errors: [{ message: 'Malformed request body', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    opts.logger.error({ err }, 'unhandled http error');
    res.status(500).json({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${opts.host}:${port}/graphql`;
  opts.logger.info({ url }, `${opts.name} subgraph listening`);

  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    health,
    stop() {
      stopped ??= (async () => {
        health.draining = true;
        opts.logger.info({ shutdownDelayMs: opts.shutdownDelayMs ?? 0 }, `${opts.name}: readiness off, draining`);
        if (opts.shutdownDelayMs) await new Promise((r) => setTimeout(r, opts.shutdownDelayMs));
        await subscriptions?.close();
        // Closes the port, waits for in-flight requests (closing idle keep-alive sockets), then stops Apollo.
        await apollo.stop();
        await opts.onStop?.();
        health.close();
        opts.logger.info(`${opts.name} subgraph stopped`);
      })();
      return stopped;
    },
  };
}
