/**
 * Subscriptions of a subgraph over graphql-ws (protocol `graphql-transport-ws`),
 * on the same HTTP server and the same `/graphql` path as queries (a
 * WebSocket upgrade), over the same schema.
 *
 * - Identity: the caller (the router, or a trusted service) sends the signed
 *   internal identity in `connection_init` as `connectionParams.identity`,
 *   and optionally `connectionParams.requestId`. Without a valid identity
 *   graphql-ws closes the socket with 4403 Forbidden, so a subgraph's port
 *   reached directly yields nothing, as over HTTP. The identity is checked
 *   once per socket (the router opens one per downstream connection).
 * - Context: the subgraph's own `context` factory, with the socket's
 *   identity, its request id and a logger bound to both, per operation.
 * - Errors are formatted as over HTTP: a `DomainError`/`AuthError` thrown by a
 *   `subscribe` or `resolve` keeps its `extensions.code`; anything else is an
 *   `INTERNAL_SERVER_ERROR` (message hidden in production). An error thrown by
 *   `subscribe` ends that subscription only (graphql-ws sends a `next` with
 *   the errors, then `complete`); the socket stays open.
 * - Shutdown: {@link SubscriptionServer.close} closes every socket with 1012
 *   "Service Restart" (clients reconnect, to another instance if there is
 *   one) and stops accepting new ones; it runs before Apollo drains HTTP.
 *   Closing a socket calls `return()` on each of its subscriptions' iterators,
 *   so resolvers release what they hold.
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { batchWritesPerTurn } from '@rental/websocket';
import type { Identity, InternalIdentityVerifier } from '@rental/auth';
import type { Logger } from '@rental/observability';
import { formatError } from './errors.js';
import type { BaseContext } from './server.js';
import { SharedEventExecution } from './shared-events.js';

/** graphql-js as graphql-ws and @apollo/subgraph load it (Node's resolution: its CommonJS build). */
const cjsGraphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** Close code sent to every socket on shutdown (RFC 6455 "Service Restart"). */
export const SERVICE_RESTART = 1012;

export interface SubscriptionServer {
  /** Sockets open now. */
  sockets(): number;
  /** Closes every socket with 1012 and stops accepting new ones; idempotent. */
  close(): Promise<void>;
}

type SocketExtra = {
  identity?: Identity;
  requestId?: string;
};

/**
 * Parsed and validated operations by their text (bounded LRU). graphql-js
 * is loaded as graphql-ws and the schema's builder load it (its CommonJS
 * build), so `validate` accepts their schema in every runtime, vitest's
 * included.
 */
type KnownOperation = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: GraphQLError[] };

class OperationDocuments {
  private readonly cache = new LRUCache<string, KnownOperation>({ max: 1_000 });

  constructor(private readonly schema: GraphQLSchema) {}

  get(query: string): KnownOperation {
    const known = this.cache.get(query);
    if (known) return known;
    let entry: KnownOperation;
    try {
      const document = cjsGraphql.parse(query);
      const errors = cjsGraphql.validate(this.schema, document);
      entry = errors.length > 0 ? { errors: [...errors] } : { document };
    } catch (err) {
      // A syntax error: graphql-js throws it as a GraphQLError; it is not remembered.
      return { errors: [err as GraphQLError] };
    }
    this.cache.set(query, entry);
    return entry;
  }
}

export function attachSubscriptions<Ctx extends BaseContext>(opts: {
  name: string;
  httpServer: http.Server;
  schema: GraphQLSchema;
  /** The server's identity verifier (shared with HTTP, so a token verified there is not verified again). */
  verifier: InternalIdentityVerifier;
  logger: Logger;
  production: boolean;
  context: (base: BaseContext) => Ctx | Promise<Ctx>;
  /** `REQUEST_DEADLINE_MS`, for the context's `deadline`. Default 10000. */
  requestDeadlineMs?: number;
}): SubscriptionServer {
  const wss = new WebSocketServer({ server: opts.httpServer, path: '/graphql' });
  // A router's socket carries many subscriptions: one change's messages to them leave in one write.
  wss.on('connection', batchWritesPerTurn);
  const format = formatError(opts.logger, opts.production);
  const formatAll = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((e) => format(e instanceof GraphQLError ? e.toJSON() : { message: String(e) }, e));

  const documents = new OperationDocuments(opts.schema);
  // Identical subscriptions of one caller execute each event once (shared-events.ts).
  const events = new SharedEventExecution();

  useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      schema: opts.schema,
      subscribe: events.subscribe,
      // Parsed and validated once per distinct operation text, not on every subscribe (a burst of
      // screens opening sends the same document thousands of times); graphql-ws then runs it as given.
      onSubscribe(_ctx, _id, payload) {
        const known = documents.get(payload.query);
        if (known.errors) return known.errors;
        return {
          schema: opts.schema,
          document: known.document,
          ...(payload.operationName ? { operationName: payload.operationName } : {}),
          ...(payload.variables ? { variableValues: payload.variables } : {}),
        };
      },
      async onConnect(ctx) {
        const token = ctx.connectionParams?.identity;
        if (typeof token !== 'string' || token.length === 0) {
          opts.logger.warn('subscription socket without identity refused');
          return false;
        }
        try {
          ctx.extra.identity = await opts.verifier.verify(token);
        } catch (err) {
          opts.logger.warn({ err }, 'subscription socket with an invalid identity refused');
          return false;
        }
        const requestId = ctx.connectionParams?.requestId;
        ctx.extra.requestId = typeof requestId === 'string' && requestId.length > 0 && requestId.length <= 200 ? requestId : randomUUID();
        return true;
      },
      context: async (ctx) => {
        const identity = ctx.extra.identity!;
        const requestId = ctx.extra.requestId ?? randomUUID();
        const logger = opts.logger.child({ requestId, caller: identity.sub, transport: 'ws' });
        // A subscription's operation (its subscribe and first reads) gets the same deadline as a request.
        return opts.context({ identity, requestId, logger, deadline: Date.now() + (opts.requestDeadlineMs ?? 10_000) });
      },
      onNext(_ctx, _id, _payload, _args, result: ExecutionResult) {
        if (!result.errors || result.errors.length === 0) return;
        return { ...result, errors: formatAll(result.errors) };
      },
      // graphql-ws calls this for a document that does not validate (or names no operation), and for
      // a stream that ends with an error: what the stream threw is formatted as over HTTP (a
      // DomainError keeps its code and details, e.g. a resumable TRY_LATER with `resumeFrom`).
      onError(_ctx, _id, _payload, errors) {
        return errors.map((e) => {
          if (e.originalError) return format({ message: e.message }, e.originalError);
          const coded = e.extensions?.code
            ? e
            : new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } });
          return formatAll([coded])[0] as GraphQLFormattedError;
        });
      },
    },
    wss,
  );

  let closing: Promise<void> | undefined;
  return {
    sockets: () => wss.clients.size,
    close() {
      closing ??= (async () => {
        // Stop taking upgrades (ws emits its close once the last client is gone).
        const closed = new Promise<void>((resolve) => wss.close(() => resolve()));
        for (const socket of wss.clients) socket.close(SERVICE_RESTART, 'Service Restart');
        // A socket that does not complete the close handshake in time is cut.
        const deadline = Date.now() + 2000;
        while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        for (const socket of wss.clients) socket.terminate();
        await closed;
        opts.logger.info(`${opts.name}: subscription sockets closed`);
      })();
      return closing;
    },
  };
}
