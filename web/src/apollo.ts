/**
 * One endpoint for everything: queries and mutations over HTTP POST to
 * `/graphql`, subscriptions over graphql-ws on the same `/graphql` path (the
 * router serves both). The token goes in the `Authorization` header for HTTP
 * and in `connectionParams` for the WebSocket.
 *
 * The socket retries for ever with exponential backoff (0.5 s doubling up to
 * 10 s, with jitter). graphql-ws re-sends every active subscription after a
 * reconnect; `live.ts` makes that re-subscription carry `sinceVersion`, so the
 * server replays what was missed.
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient, type Client } from 'graphql-ws';
import { Kind, OperationTypeNode } from 'graphql';

/** `idle`: no subscription needs the socket (it opens lazily and closes when unused). */
export type SocketState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface Api {
  client: ApolloClient;
  ws: Client;
  /** Current socket state and a way to watch it (for the "live" badge). */
  socketState(): SocketState;
  onSocketState(listener: (state: SocketState) => void): () => void;
  /** Called after every reconnect (not the first connect). */
  onReconnected(listener: () => void): () => void;
  /** Called after every connect, the first one included (`reconnect` tells which). */
  onConnected(listener: (reconnect: boolean) => void): () => void;
  dispose(): void;
}

export function graphqlHttpUrl(): string {
  return '/graphql';
}

export function graphqlWsUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/graphql`;
}

/** 0.5 s, 1 s, 2 s, … capped at 10 s, ±30 % jitter. */
export function backoffMs(retries: number): number {
  const base = Math.min(10_000, 500 * 2 ** retries);
  return Math.round(base * (0.7 + Math.random() * 0.6));
}

export function createApi(token: string | null): Api {
  let state: SocketState = 'idle';
  let everConnected = false;
  const stateListeners = new Set<(s: SocketState) => void>();
  const reconnectListeners = new Set<() => void>();
  const connectListeners = new Set<(reconnect: boolean) => void>();
  const setState = (s: SocketState) => {
    state = s;
    for (const l of stateListeners) l(s);
  };

  const ws = createClient({
    url: graphqlWsUrl(),
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    lazy: true,
    // Keep the socket a little after the last subscription ends (page switches).
    lazyCloseTimeout: 3000,
    keepAlive: 15_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, backoffMs(retries))),
    on: {
      connecting: () => setState(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        const wasReconnect = everConnected;
        everConnected = true;
        setState('connected');
        for (const l of connectListeners) l(wasReconnect);
        if (wasReconnect) for (const l of reconnectListeners) l();
      },
      // 1000: closed on purpose (no subscription left, or signed out); anything else is retried.
      closed: (event) => setState((event as { code?: number } | undefined)?.code === 1000 ? 'idle' : everConnected ? 'reconnecting' : 'closed'),
    },
  });

  const http = new HttpLink({
    uri: graphqlHttpUrl(),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

  const link = ApolloLink.split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === Kind.OPERATION_DEFINITION && def.operation === OperationTypeNode.SUBSCRIPTION;
    },
    new GraphQLWsLink(ws),
    http,
  );

  const client = new ApolloClient({
    link,
    // Pages of a connection are cached per (filter, first, after): the catalog pages with cursors.
    cache: new InMemoryCache(),
    defaultOptions: {
      watchQuery: { fetchPolicy: 'cache-and-network' },
    },
  });

  return {
    client,
    ws,
    socketState: () => state,
    onSocketState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    onReconnected(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    onConnected(listener) {
      connectListeners.add(listener);
      return () => connectListeners.delete(listener);
    },
    dispose() {
      void ws.dispose();
      client.stop();
    },
  };
}
