/**
 * The router's side of subscriptions to subgraphs: graphql-ws clients that
 * open each subscription's primary fetch on its owning subgraph.
 *
 * One pool per caller identity (sub, role, storeId), shared by that caller's
 * downstream connections ({@link UpstreamPools}: reference counted), one
 * graphql-ws client per subgraph within it, multiplexing their
 * subscriptions. So an upstream socket always speaks for exactly one
 * caller: the identity in its `connection_init` is the caller's and cannot
 * be mixed up with another's. A customer with many open screens costs one
 * upstream socket per subgraph, not one per screen (a new subscription on an
 * open socket needs no handshake), and, where the supergraph marks the
 * field, one upstream subscription for identical screens
 * (shared-upstream.ts). A subscription ends upstream when its
 * downstream one ends; the socket closes with its last subscription
 * (`lazyCloseTimeout` 0), and the pool with its caller's last connection.
 * The request id on the socket is that of the connection that opened it.
 *
 * Protocol towards the subgraph (graphql-transport-ws on the subgraph's own
 * `/graphql` URL, http→ws):
 * - `connection_init` payload `{ identity, requestId }`: `identity` is the
 *   router-signed internal identity token (the same JWT subgraphs get in the
 *   `x-rental-identity` header over HTTP), signed afresh for each socket; the
 *   subgraph verifies it in `onConnect` and filters what it sends by it.
 * - The primary fetch's operation text and the variables it uses, unchanged.
 * - No automatic reconnect: a subgraph that resumes a stream must be asked
 *   again with the client's own position (e.g. a version), which only the
 *   client knows. When the upstream socket fails or closes, each affected
 *   subscription ends with a SERVICE_UNAVAILABLE error and the client
 *   re-subscribes, exactly as after a router restart.
 */
import { createClient, type Client } from 'graphql-ws';
import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import { GraphQLError } from './graphql.js';
import { identityKey, type Identity, type InternalIdentitySigner } from '@rental/auth';
import type { Logger } from '@rental/observability';
import { BatchingWebSocket } from '@rental/websocket';
import { Channel } from './channel.js';
import { SharedUpstreams, type Sharing, type UpstreamSink } from './shared-upstream.js';

/** An upstream event: what the subgraph sent in a `next` message. */
export type UpstreamEvent = FormattedExecutionResult<Record<string, unknown>, unknown>;

/** When each upstream event arrived (`performance.now()`), for the router's event latency metric. */
const arrivals = new WeakMap<UpstreamEvent, number>();

/** When `event` arrived from the subgraph (`performance.now()`), if it came through an {@link UpstreamPool}. */
export function arrivedAt(event: UpstreamEvent): number | undefined {
  return arrivals.get(event);
}

/**
 * The subgraph answered the subscription with an `error` message (e.g. it
 * failed validation there, or the subgraph refused it): its errors are
 * forwarded to the client as they are.
 */
export class UpstreamErrors extends Error {
  constructor(
    readonly serviceName: string,
    readonly errors: readonly GraphQLFormattedError[],
  ) {
    super(errors[0]?.message ?? `Subgraph "${serviceName}" refused the subscription`);
    this.name = 'UpstreamErrors';
  }
}

function closeCode(value: unknown): number | undefined {
  return value && typeof value === 'object' && 'code' in value && typeof value.code === 'number' ? value.code : undefined;
}

/** What a failed upstream becomes for the client (never the subgraph's URL). */
function upstreamFailure(serviceName: string, err: unknown): Error {
  if (Array.isArray(err)) return new UpstreamErrors(serviceName, err as GraphQLFormattedError[]);
  const code = closeCode(err);
  if (code === 4403 || code === 4401) {
    return new GraphQLError(`Subgraph "${serviceName}" refused the router's identity`, {
      extensions: { code: 'UNAUTHENTICATED', serviceName },
    });
  }
  return new GraphQLError(
    `Subscription to "${serviceName}" was interrupted${code ? ` (${code})` : ''}; subscribe again to resume`,
    { extensions: { code: 'SERVICE_UNAVAILABLE', serviceName } },
  );
}

/**
 * The upstream pools of every caller connected to this router, one per
 * identity, shared by that caller's connections.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { pool: UpstreamPool; users: number }>();

  constructor(private readonly opts: { signer: InternalIdentitySigner; logger: Logger }) {}

  /** The caller's pool, for one more connection; `release()` when that connection closes. */
  acquire(identity: Identity, requestId: string): { pool: UpstreamPool; release: () => Promise<void> } {
    const key = identityKey(identity);
    let entry = this.pools.get(key);
    if (!entry) {
      entry = { pool: new UpstreamPool({ identity, requestId, ...this.opts }), users: 0 };
      this.pools.set(key, entry);
    }
    entry.users += 1;
    const held = entry;
    let released = false;
    return {
      pool: held.pool,
      release: async () => {
        if (released) return;
        released = true;
        held.users -= 1;
        if (held.users > 0) return;
        if (this.pools.get(key) === held) this.pools.delete(key);
        await held.pool.dispose();
      },
    };
  }

  /** Callers with a pool now (tests, metrics). */
  size(): number {
    return this.pools.size;
  }
}

/** What the subgraph is asked for: the primary fetch's operation and the variables it uses. */
export interface UpstreamRequest {
  query: string;
  variables: Record<string, unknown>;
  operationName?: string;
}

/** One subscription open on an upstream socket: how the socket ends it. */
interface OpenSubscription {
  fail(err: unknown): void;
  complete(): void;
}

/** One subgraph's graphql-ws client in a pool, with the subscriptions open on it. */
interface SocketEntry {
  client: Client;
  subscriptions: Set<OpenSubscription>;
}

/** The upstream graphql-ws clients of one caller. */
export class UpstreamPool {
  private readonly clients = new Map<string, SocketEntry>();
  // An answer with errors and no data is usually the subgraph's last (it completes right after).
  private readonly shared = new SharedUpstreams<UpstreamEvent>((e) => (e.data === undefined || e.data === null) && (e.errors?.length ?? 0) > 0);
  private disposed = false;

  constructor(
    private readonly opts: {
      identity: Identity;
      requestId: string;
      signer: InternalIdentitySigner;
      logger: Logger;
    },
  ) {}

  /**
   * Opens `query` on the subgraph at `url`; events arrive on the returned
   * channel. Returning (or the upstream completing) unsubscribes; an
   * upstream failure makes the channel fail (see {@link upstreamFailure}).
   * With `sharing` other than `none`, an identical subscription of this
   * caller that is open already is joined instead (shared-upstream.ts).
   */
  subscribe(serviceName: string, url: string, request: UpstreamRequest, sharing: Sharing = 'none'): Channel<UpstreamEvent> {
    if (sharing === 'none') {
      let unsubscribe: () => void = () => {};
      const channel: Channel<UpstreamEvent> = new Channel(() => unsubscribe());
      unsubscribe = this.open(serviceName, url, request, {
        next: (value) => channel.push(value),
        error: (err) => channel.fail(err),
        complete: () => channel.end(),
      });
      return channel;
    }
    const key = JSON.stringify([serviceName, url, request.operationName ?? null, request.query, request.variables]);
    return this.shared.subscribe(key, sharing, (sink) => this.open(serviceName, url, request, sink));
  }

  /** Opens one subscription on the subgraph's socket into `sink`; returns its unsubscribe. */
  private open(serviceName: string, url: string, request: UpstreamRequest, sink: UpstreamSink<UpstreamEvent>): () => void {
    if (this.disposed) {
      sink.error(upstreamFailure(serviceName, undefined));
      return () => {};
    }
    const entry = this.client(serviceName, url);
    let unsubscribe: () => void = () => {};
    let active = true;
    // Leaves the socket's set exactly once, whichever way the subscription ends.
    const detach = (): boolean => {
      if (!active) return false;
      active = false;
      entry.subscriptions.delete(subscription);
      unsubscribe();
      // The last subscription gone: graphql-ws closes this lazy socket now
      // (lazyCloseTimeout 0). A subscription attached to it meanwhile would
      // end at once (completed empty on the 1000 close, or failed as
      // "interrupted"), so the next one gets a new client and socket.
      if (entry.subscriptions.size === 0) this.forget(entry);
      return true;
    };
    const subscription: OpenSubscription = {
      fail: (err) => {
        if (detach()) sink.error(err);
      },
      complete: () => {
        if (detach()) sink.complete();
      },
    };
    entry.subscriptions.add(subscription);
    unsubscribe = entry.client.subscribe<Record<string, unknown>>(request, {
      next: (value) => {
        arrivals.set(value, performance.now());
        if (active) sink.next(value);
      },
      error: (err) => subscription.fail(upstreamFailure(serviceName, err)),
      complete: () => subscription.complete(),
    });
    return detach;
  }

  /** Closes every upstream socket (the downstream connection is gone). */
  async dispose(): Promise<void> {
    this.disposed = true;
    const entries = [...this.clients.values()];
    this.clients.clear();
    for (const { subscriptions } of entries) for (const s of [...subscriptions]) s.complete();
    await Promise.all(entries.map(({ client }) => client.dispose()));
  }

  private forget(entry: SocketEntry): void {
    for (const [key, e] of this.clients) if (e === entry) this.clients.delete(key);
  }

  private client(serviceName: string, url: string) {
    const key = `${serviceName}\u0000${url}`;
    let entry = this.clients.get(key);
    if (entry) return entry;
    const subscriptions = new Set<OpenSubscription>();
    const { identity, requestId, signer, logger } = this.opts;
    // Operation ids need only be unique on this socket: a counter, not a random UUID per subscribe.
    let lastId = 0;
    const client = createClient({
      url,
      // Subscribes opened in one turn leave in one write (write-batching.ts).
      webSocketImpl: BatchingWebSocket,
      generateID: () => String(++lastId),
      lazy: true,
      lazyCloseTimeout: 0,
      retryAttempts: 0,
      shouldRetry: () => false,
      connectionParams: async () => ({ identity: await signer.sign(identity), requestId }),
      on: {
        // A socket that closes while subscriptions are open fails them (a
        // clean close included: graphql-ws would otherwise silently
        // reconnect and re-subscribe from the original position).
        closed: (event) => {
          if (this.clients.get(key)?.client === client) this.clients.delete(key);
          if (subscriptions.size === 0) return;
          logger.warn({ subgraph: serviceName, code: closeCode(event), requestId }, 'upstream subscription socket closed');
          const failure = upstreamFailure(serviceName, event);
          for (const s of [...subscriptions]) s.fail(failure);
          void client.dispose();
        },
      },
    });
    entry = { client, subscriptions };
    this.clients.set(key, entry);
    return entry;
  }
}
