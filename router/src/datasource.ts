/**
 * How the router calls a subgraph: at the URL from the supergraph or its
 * override, with the caller's identity as a short-lived router-signed token
 * ({@link IDENTITY_HEADER}) and the request id ({@link REQUEST_ID_HEADER}).
 * The caller's own Authorization header is never forwarded.
 *
 * Failures are made safe to show: a subgraph that cannot be reached answers
 * SERVICE_UNAVAILABLE; a non-2xx answer with GraphQL errors keeps their
 * message and code; internal URLs and response bodies never reach callers.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from './subscriptions/graphql.js';
import { ANONYMOUS, IDENTITY_HEADER, REQUEST_ID_HEADER, type InternalIdentitySigner } from '@rental/auth';
import type { Logger } from '@rental/observability';
import type { RouterContext } from './identity.js';
import { subgraphFetchDuration } from './metrics.js';
import { dedupeFetcher } from './upstreams/dedupe.js';
import { poolFetcher, RETRY_MARK } from './upstreams/fetcher.js';
import { isRetryable } from './upstreams/operation.js';
import type { UpstreamPool } from './upstreams/pool.js';

type Options = GraphQLDataSourceProcessOptions<RouterContext>;
type Response = Awaited<ReturnType<RemoteGraphQLDataSource<RouterContext>['process']>>;
type FetcherResponse = Parameters<RemoteGraphQLDataSource<RouterContext>['errorFromResponse']>[0];

/** Where and how a data source sends its fetches. */
export interface DataSourceOptions {
  /** This subgraph's URLs: fetches spread over them, queries retried after a connection failure (upstreams/). */
  pool?: UpstreamPool;
  /** The fetch to send with (the router's, upstreams/connections.ts); default: the gateway's own. */
  fetcher?: RemoteGraphQLDataSource['fetcher'];
  /** Identical queries in flight share one fetch (upstreams/dedupe.ts). Default true. */
  dedupe?: boolean;
}

export class IdentityDataSource extends RemoteGraphQLDataSource<RouterContext> {
  constructor(
    readonly name: string,
    url: string,
    private readonly signer: InternalIdentitySigner,
    private readonly logger: Logger,
    { pool, fetcher, dedupe = true }: DataSourceOptions = {},
  ) {
    super({ url: pool?.urls[0] ?? url, ...(fetcher ? { fetcher } : {}) });
    if (pool) {
      this.pool = pool;
      // Identical queries in flight share one fetch (dedupe.ts), then the pool picks a URL.
      const pooled = poolFetcher(this.fetcher, pool, logger);
      this.fetcher = dedupe ? dedupeFetcher(pooled, name) : pooled;
    }
  }

  private readonly pool: UpstreamPool | undefined;

  override async willSendRequest(options: Options): Promise<void> {
    const { request } = options;
    // Health checks and other gateway-internal fetches carry no request context.
    const context = options.context as Partial<RouterContext> | undefined;
    const identity = context?.identity ?? ANONYMOUS;
    request.http?.headers.set(IDENTITY_HEADER, await this.signer.sign(identity));
    if (context?.requestId) request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    // Read (and removed) by the pool fetcher: only a query may be sent to a second URL.
    if (this.pool) request.http?.headers.set(RETRY_MARK, isRetryable(request.query) ? '1' : '0');
  }

  override async process(options: Options): Promise<Response> {
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      return await super.process(options);
    } catch (err) {
      outcome = 'error';
      throw this.publicError(err, options);
    } finally {
      subgraphFetchDuration.observe(
        { subgraph: this.name, outcome },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  }

  /** A non-2xx answer: keep the subgraph's first GraphQL error, drop the rest of the response. */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    let body: unknown;
    try {
      body = await this.parseBody(response);
    } catch {
      body = undefined;
    }
    const first = (body as { errors?: Array<{ message?: unknown; extensions?: Record<string, unknown> }> } | undefined)
      ?.errors?.[0];
    if (first && typeof first.message === 'string') {
      const { stacktrace: _s, exception: _e, ...extensions } = first.extensions ?? {};
      return new GraphQLError(first.message, {
        extensions: { code: response.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL_SERVER_ERROR', ...extensions, serviceName: this.name },
      });
    }
    const code = response.status === 401 ? 'UNAUTHENTICATED' : response.status === 403 ? 'FORBIDDEN' : 'SERVICE_UNAVAILABLE';
    return new GraphQLError(`Subgraph "${this.name}" answered HTTP ${response.status}`, {
      extensions: { code, serviceName: this.name },
    });
  }

  private publicError(err: unknown, options: Options): unknown {
    // Duck-typed: gateway code may use another copy of graphql-js (CJS vs ESM).
    if (err && typeof err === 'object' && 'extensions' in err && (err as GraphQLError).extensions?.code) return err;
    const requestId = (options.context as Partial<RouterContext> | undefined)?.requestId;
    this.logger.warn({ err, subgraph: this.name, requestId }, 'subgraph fetch failed');
    return new GraphQLError(`Service "${this.name}" is unavailable`, {
      extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: this.name },
    });
  }
}
