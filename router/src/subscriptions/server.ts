/**
 * Subscriptions over graphql-ws (subprotocol `graphql-transport-ws`) on the
 * same `/graphql` path as HTTP: a `ws` WebSocketServer on the router's HTTP
 * server, driven by graphql-ws's own protocol implementation (`useServer`).
 *
 * Per connection:
 * - `connection_init`: the payload's `authorization` (or `Authorization`)
 *   is `Bearer <jwt>`, checked like the HTTP header; for non-browser clients
 *   the upgrade request's `Authorization` header is accepted too. No token:
 *   ANONYMOUS (subgraphs decide what that may see). A bad token: the socket
 *   is closed with 4403 and the reason (e.g. "token expired"). `requestId`
 *   in the payload (or the `x-request-id` header) names the connection in
 *   logs and subgraph calls.
 * - Protocol errors are graphql-ws's, and close only that socket: invalid
 *   JSON or an unknown message type 4400, `subscribe` before the
 *   acknowledgement 4401, a second `connection_init` 4429, a reused
 *   operation id 4409, no `connection_init` within 3 s 4408.
 * - Keep-alive: a ws ping every `WS_KEEPALIVE_MS`; a peer that has not
 *   answered by the next ping is terminated.
 * - Per operation, bad input never closes the socket: parse, validation and
 *   variable errors, an operation beyond `MAX_SUBSCRIPTIONS_PER_CONNECTION`
 *   (code BAD_USER_INPUT, `extensions.limit` MAX_SUBSCRIPTIONS_PER_CONNECTION) and a subgraph's refusal come back as an
 *   `error` message for that id; the other operations carry on.
 * - Queries and mutations sent over the socket run through Apollo Server
 *   (`executeOperation`, the same pipeline, plugins and error formatting as
 *   HTTP) and answer one `next` then `complete`.
 * - Shutdown: every socket is closed with 1012 "Service Restart" (clients
 *   reconnect and re-subscribe) and the upstream sockets are closed.
 * - Sharing, never across identities: one caller's subscriptions with the
 *   same primary fetch and variables share one upstream subscription where
 *   the supergraph marks the field's stream as replayable or live
 *   (`@replayAfter`; shared-upstream.ts), and each event is resolved across
 *   the subgraphs once for all of them (shared-execution.ts).
 * - Subscribe rate: `WS_SUBSCRIBES_PER_SECOND` per socket and
 *   `WS_SUBSCRIBES_PER_SECOND_PER_CALLER` per caller (subscribe-rate.ts);
 *   over them that operation gets `TRY_LATER` with `retryAfterSeconds`.
 * - Backpressure: graphql-ws sends one result after the other, each once the
 *   previous one was written to the socket, so results wait in the
 *   subscription's Channel while a client does not read. Past
 *   `WS_MAX_BUFFERED_MESSAGES` the socket is closed 1013 ({@link SLOW_CONSUMER})
 *   and cut if the client does not finish the close within 5 s: memory per
 *   subscriber stays bounded and the client resumes from its last version.
 *
 * Errors leave through the router's `formatError`, as over HTTP.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { ExecutionArgs, ExecutionResult, FormattedExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import { GraphQLError as GraphQLErrorClass } from './graphql.js';
import type { ApolloServer } from '@apollo/server';
import { AuthError, type Identity, type InternalIdentitySigner } from '@rental/auth';
import { KeySetUnavailableError, type Authenticated } from '../auth/verifier.js';
import type { Logger } from '@rental/observability';
import { codeOf, formatError } from '../errors.js';
import { requestIdFrom, type RouterContext } from '../identity.js';
import { SERVICE, errorCounter, requestCounter, slowConsumersClosed, subscriptionEventDuration, subscriptionsOpen } from '../metrics.js';
import { Channel } from './channel.js';
import { executeEvent } from './executor.js';
import type { PreparedOperation, PreparedSubscription, SubscriptionPlanner } from './planner.js';
import { SharedEventExecution } from './shared-execution.js';
import { SubscribeRate, type SubscribeRates } from './subscribe-rate.js';
import { UpstreamErrors, UpstreamPools, arrivedAt, type UpstreamPool } from './upstream.js';

/** Close code sent to every client on shutdown (RFC 6455 "Service Restart": reconnect). */
export const SERVICE_RESTART = 1012;

/**
 * Close code for a client that reads too slowly (RFC 6455 1013 "Try Again
 * Later"; graphql-ws clients reconnect on it): it then subscribes again with
 * its last `sinceVersion`/`sinceSequence` and replays what it missed.
 */
export const SLOW_CONSUMER = 1013;

/** How long a slow client has to complete the closing handshake before its socket is cut. */
const SLOW_CONSUMER_GRACE_MS = 5_000;

export interface SubscriptionServerOptions {
  httpServer: http.Server;
  planner: SubscriptionPlanner;
  apollo: ApolloServer<RouterContext>;
  /** Verifies the connection's token; `expiresAt` closes the socket (4403) when the token expires. */
  authenticate(authorization: string | undefined): Promise<Authenticated>;
  signer: InternalIdentitySigner;
  logger: Logger;
  production: boolean;
  maxSubscriptionsPerConnection: number;
  keepAliveMs: number;
  /** Largest WebSocket message accepted, in bytes. */
  maxPayload: number;
  /** Results one subscription may hold for a slow client before its socket is closed with {@link SLOW_CONSUMER}. */
  maxBufferedMessages: number;
  /** `subscribe` messages per second per socket and per caller (subscribe-rate.ts). */
  subscribeRates: SubscribeRates;
}

export interface SubscriptionServer {
  /** Open WebSocket connections. */
  connections(): number;
  /** Closes every socket with 1012 and the upstream ones; stops accepting new sockets. */
  close(): Promise<void>;
}

/** One client connection, after `connection_init` was accepted. */
interface Connection {
  socket: WebSocket;
  /** This socket's key in the subscribe-rate windows. */
  key: string;
  identity: Identity;
  requestId: string;
  /** The caller's upstream pool, shared with their other connections. */
  upstream: UpstreamPool;
  /** Gives this connection's hold on the pool back. */
  releaseUpstream(): Promise<void>;
  /** Ids of this connection's open subscriptions (the limit and the gauge count these). */
  active: Set<string>;
  /** The peer address (rate limit key of anonymous callers). */
  clientIp?: string;
  /** Closes the socket when the token expires. */
  expiry?: NodeJS.Timeout;
}

/** Handed from `onSubscribe` to `subscribe`/`execute` as the context value. */
interface OperationContext {
  id: string;
  connection: Connection;
  prepared: PreparedSubscription | PreparedOperation;
}

type Extra = { connection?: Connection };

function release(connection: Connection, id: string): void {
  if (connection.active.delete(id)) subscriptionsOpen.dec({ service: SERVICE });
}

function stringParam(value: unknown): string | undefined | false {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : false;
}

/** Attaches graphql-ws to the router's HTTP server on `/graphql`. */
export function startSubscriptionServer(opts: SubscriptionServerOptions): SubscriptionServer {
  const { planner, logger } = opts;
  const format = formatError(logger, opts.production);
  const subscribeRate = new SubscribeRate(opts.subscribeRates);
  // Identical events of one caller's identical subscriptions are resolved once (shared-execution.ts).
  const executions = new SharedEventExecution();
  // One upstream pool per caller identity, shared by their connections (upstream.ts).
  const upstreams = new UpstreamPools({ signer: opts.signer, logger });
  const wss = new WebSocketServer({ server: opts.httpServer, path: '/graphql', maxPayload: opts.maxPayload });

  const formatOne = (error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError => {
    const formatted =
      typeof (error as GraphQLError).toJSON === 'function' ? (error as GraphQLError).toJSON() : error;
    const result = format(formatted, error);
    errorCounter.inc({ service: SERVICE, code: codeOf(result, 'UNKNOWN') });
    return result;
  };

  const formatErrors = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.flatMap((e) => {
      const original = e.originalError;
      if (original instanceof UpstreamErrors) {
        return original.errors.map((u) =>
          formatOne({ ...u, extensions: { ...(u.extensions ?? {}), serviceName: original.serviceName } }),
        );
      }
      return [formatOne(e)];
    });

  /** A subscription of this socket has `maxBufferedMessages` results its client has not read: close it, resumably. */
  function closeSlowConsumer(connection: Connection): void {
    const { socket } = connection;
    if (socket.readyState !== socket.OPEN) return;
    slowConsumersClosed.inc();
    logger.warn({ requestId: connection.requestId, buffered: opts.maxBufferedMessages }, 'subscription client reads too slowly; closing its socket (1013)');
    socket.close(SLOW_CONSUMER, 'subscriber fell behind: reconnect and resume with sinceVersion or sinceSequence');
    setTimeout(() => socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
  }

  function openSubscription(ctx: OperationContext, prepared: PreparedSubscription): AsyncIterableIterator<ExecutionResult> | ExecutionResult {
    const { connection, id } = ctx;
    const { primary, state } = prepared;
    const url = state.wsUrl(primary.serviceName);
    if (!url) {
      release(connection, id);
      return { errors: [new GraphQLErrorClass(`Unknown subgraph "${primary.serviceName}"`, { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
    }
    // The primary gets the variables it uses, exactly as the client sent them.
    const variables: Record<string, unknown> = {};
    for (const name of primary.variableUsages ?? []) {
      if (name in prepared.variables) variables[name] = prepared.variables[name];
    }
    const upstream = connection.upstream.subscribe(primary.serviceName, url, {
      query: primary.operation,
      variables,
      ...(primary.operationName ? { operationName: primary.operationName } : {}),
    }, prepared.sharing);
    const out = new Channel<ExecutionResult>(
      () => {
        void upstream.return();
        release(connection, id);
      },
      { highWaterMark: opts.maxBufferedMessages, onOverflow: () => closeSlowConsumer(connection) },
    );
    const eventContext = {
      context: { identity: connection.identity, requestId: connection.requestId },
      logger,
    };
    const shared = executions.forSubscription(prepared.document, prepared.variables, connection.identity);
    void (async () => {
      try {
        // One event at a time: results leave in the order the subgraph pushed them.
        for await (const event of upstream) {
          if (out.closed) break;
          out.push(await shared(event, () => executeEvent(prepared, event, eventContext)));
          const arrived = arrivedAt(event);
          if (arrived !== undefined) subscriptionEventDuration.observe((performance.now() - arrived) / 1000);
        }
        out.end();
      } catch (err) {
        out.fail(err);
      }
    })();
    return out;
  }

  async function executeOperation(ctx: OperationContext, prepared: PreparedOperation): Promise<ExecutionResult> {
    const { query, variables, operationName } = prepared.request;
    const response = await opts.apollo.executeOperation(
      { query, variables: variables ?? undefined, operationName: operationName ?? undefined },
      { contextValue: { identity: ctx.connection.identity, requestId: ctx.connection.requestId, clientIp: ctx.connection.clientIp } },
    );
    if (response.body.kind === 'single') return response.body.singleResult as ExecutionResult;
    return {
      errors: [new GraphQLErrorClass('Incremental delivery (@defer/@stream) is not supported over WebSocket', { extensions: { code: 'BAD_REQUEST' } })],
    };
  }

  const server = useServer<Record<string, unknown>, Extra>(
    {
      async onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        const socket = ctx.extra.socket;
        const authorization = stringParam(
          params.authorization ?? params.Authorization ?? ctx.extra.request.headers.authorization,
        );
        let identity: Identity;
        let expiresAt: number | undefined;
        try {
          if (authorization === false) throw new AuthError('connectionParams.authorization must be a string');
          ({ identity, expiresAt } = await opts.authenticate(authorization));
        } catch (err) {
          if (err instanceof KeySetUnavailableError) {
            // 1013 "Try Again Later": the key set could not be fetched; not the caller's fault.
            socket.close(1013, err.message.slice(0, 120));
            return false;
          }
          const message = err instanceof AuthError ? err.message : 'unauthenticated';
          errorCounter.inc({ service: SERVICE, code: 'UNAUTHENTICATED' });
          socket.close(4403, message.slice(0, 120));
          return false;
        }
        const requestParam = stringParam(params.requestId);
        const header = ctx.extra.request.headers['x-request-id'];
        const requestId = requestIdFrom(requestParam || (typeof header === 'string' ? header : undefined));
        const upstream = upstreams.acquire(identity, requestId);
        ctx.extra.connection = {
          socket,
          key: randomUUID(),
          identity,
          requestId,
          upstream: upstream.pool,
          releaseUpstream: upstream.release,
          active: new Set(),
          ...(ctx.extra.request.socket.remoteAddress ? { clientIp: ctx.extra.request.socket.remoteAddress } : {}),
        };
        if (expiresAt !== undefined) {
          // The connection lives only as long as its token: at `exp` it is closed 4403 (the client signs in again).
          const timer = setTimeout(() => socket.close(4403, 'token expired'), Math.min(Math.max(0, expiresAt - Date.now()), 2_147_483_647));
          timer.unref();
          ctx.extra.connection.expiry = timer;
          socket.once('close', () => clearTimeout(timer));
        }
        return true;
      },

      // Never throws: a throw here would close the whole socket (4500).
      async onSubscribe(ctx, id, payload): Promise<ExecutionArgs | GraphQLError[]> {
        const connection = ctx.extra.connection as Connection;
        const refuse = (message: string, code: string) => [new GraphQLErrorClass(message, { extensions: { code } })];
        try {
          const caller = connection.identity.role === 'ANONYMOUS' ? `ip:${connection.clientIp ?? '?'}` : `sub:${connection.identity.sub}`;
          const retryAfterSeconds = await subscribeRate.admit(connection.key, caller);
          if (retryAfterSeconds !== undefined) {
            return [
              new GraphQLErrorClass(`Too many subscribe messages; try again in ${retryAfterSeconds} s`, {
                extensions: { code: 'TRY_LATER', retryAfterSeconds },
              }),
            ];
          }
          const prepared = planner.prepare(payload);
          if (Array.isArray(prepared)) return prepared;
          if (prepared.kind === 'subscription') {
            if (connection.active.size >= opts.maxSubscriptionsPerConnection) {
              return [
                new GraphQLErrorClass(
                  `Too many subscriptions on this connection (limit ${opts.maxSubscriptionsPerConnection}); complete one first`,
                  { extensions: { code: 'BAD_USER_INPUT', limit: 'MAX_SUBSCRIPTIONS_PER_CONNECTION', max: opts.maxSubscriptionsPerConnection } },
                ),
              ];
            }
            connection.active.add(id);
            subscriptionsOpen.inc({ service: SERVICE });
            requestCounter.inc({ service: SERVICE, operation: prepared.name, code: 'OK' });
          }
          const contextValue: OperationContext = { id, connection, prepared };
          return {
            schema: planner.apiGraphQLSchema!,
            document: prepared.document,
            operationName: prepared.operationName,
            variableValues: payload.variables,
            contextValue,
          };
        } catch (err) {
          logger.error({ err, requestId: connection.requestId }, 'subscribe failed');
          return refuse('Internal server error', 'INTERNAL_SERVER_ERROR');
        }
      },

      subscribe(args) {
        const ctx = args.contextValue as OperationContext;
        // graphql-ws calls this for subscription operations only.
        if (ctx.prepared.kind !== 'subscription') return executeOperation(ctx, ctx.prepared);
        try {
          return openSubscription(ctx, ctx.prepared);
        } catch (err) {
          release(ctx.connection, ctx.id);
          logger.error({ err, requestId: ctx.connection.requestId }, 'subscription failed to open');
          return { errors: [new GraphQLErrorClass('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
        }
      },

      execute(args) {
        const ctx = args.contextValue as OperationContext;
        return executeOperation(ctx, ctx.prepared as PreparedOperation);
      },

      // Undefined sends the result as it is (no copy per subscriber when there is nothing to format).
      onNext(_ctx, _id, _payload, _args, result): FormattedExecutionResult | undefined {
        if (!result.errors) return undefined;
        const { errors, ...rest } = result;
        return errors.length > 0 ? { ...rest, errors: formatErrors(errors) } : rest;
      },

      onError(_ctx, _id, _payload, errors) {
        return formatErrors(errors);
      },

      async onClose(ctx) {
        const connection = ctx.extra.connection;
        if (!connection) return;
        for (const id of [...connection.active]) release(connection, id);
        await connection.releaseUpstream().catch((err: unknown) => logger.warn({ err }, 'closing upstream sockets failed'));
      },
    },
    wss,
    opts.keepAliveMs,
  );
  void server;

  let closed: Promise<void> | undefined;
  return {
    connections: () => wss.clients.size,
    close() {
      closed ??= (async () => {
        for (const socket of wss.clients) socket.close(SERVICE_RESTART, 'Service Restart');
        // Stops accepting upgrades; its callback fires once every socket is gone.
        const gone = new Promise<void>((resolve) => wss.close(() => resolve()));
        // Peers that do not complete the closing handshake in time are cut.
        const deadline = Date.now() + 2_000;
        while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        for (const socket of wss.clients) socket.terminate();
        await gone;
      })();
      return closed;
    },
  };
}

