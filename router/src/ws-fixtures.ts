/**
 * Test fixtures for subscriptions (not shipped): two domain-free subgraphs
 * and a supergraph composed from them on the fly.
 *
 * - `reviews` owns `Subscription.reviewAdded(productId, since)`, served over
 *   graphql-ws on its `/graphql` URL the way a real subgraph does: the
 *   router-signed identity arrives in `connection_init` (`identity`) and is
 *   verified with `verifyInternalIdentity`; a socket without a valid one is
 *   closed 4403. Each event names who the subgraph believes is listening
 *   (`seenBy`), events marked `onlyFor` another caller are not sent (the
 *   subgraph's own per-event rule), `since` replays the stored events after
 *   that version first, and productId "missing" is refused with NOT_FOUND.
 *   `since` is marked `@replayAfter` (the router may share identical
 *   subscriptions); `reviewAddedUnmarked` is the same stream without the
 *   mark.
 * - `products` (the shared HTTP subgraph server) resolves `Product.name`,
 *   `price` and `seenBy` for the entity references in the events.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLError, parse } from './subscriptions/graphql.js';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { composeServices } from '@apollo/composition';
import { verifyInternalIdentity, type Identity } from '@rental/auth';
import { startSubgraph, type BaseContext, type RunningSubgraph } from '@rental/subgraph-server';
import type { RouterConfig } from './config.js';
import { Channel } from './subscriptions/channel.js';
import { INTERNAL_SECRET, fixtureSubgraph, routerConfig } from './test-fixtures.js';

const reviewsSdl = `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
    @link(url: "https://rental.example/specs/replay/v0.1", import: ["@replayAfter"])
    @composeDirective(name: "@replayAfter")
  directive @replayAfter on ARGUMENT_DEFINITION
  type Product @key(fields: "id", resolvable: false) { id: ID! }
  type ReviewEvent { version: Int! body: String! product: Product! seenBy: String! }
  type Query { reviewsVersion: Int! }
  type Subscription {
    reviewAdded(productId: ID, since: Int @replayAfter): ReviewEvent!
    "The same stream, with nothing said about it: never shared upstream."
    reviewAddedUnmarked(productId: ID, since: Int): ReviewEvent!
  }
`;

const productsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Product @key(fields: "id") { id: ID! name: String! price: Int! seenBy: String! }
  type Query { product(id: ID!): Product }
`;

interface Review {
  version: number;
  productId: string;
  body: string;
  onlyFor?: string;
}

type Listener = { productId?: string | null; identity: Identity; channel: Channel<Review> };

export interface WsFixture {
  reviewsUrl: string;
  products: RunningSubgraph;
  /** Identities (and request ids) of the sockets the reviews subgraph accepted. */
  accepted: Array<Identity & { requestId?: unknown }>;
  /** Sockets open on the reviews subgraph. */
  openSockets(): number;
  /** Writes a supergraph file in the fixture's directory (optionally without reviews); returns its path. */
  writeSupergraph(file: string, opts?: { withoutReviews?: boolean }): string;
  /** Cuts every socket of the reviews subgraph (as if it crashed). */
  dropSockets(): void;
  /** Subscriptions currently listening on the reviews subgraph. */
  listeners(): number;
  /** Stores a review and pushes it to the listeners allowed to see it. */
  publish(review: Omit<Review, 'version'>): number;
  config(env?: Record<string, string>): RouterConfig;
  stop(): Promise<void>;
}

const seenBy = (identity: Identity) => `${identity.sub}:${identity.role}`;

export async function startWsFixture(): Promise<WsFixture> {
  const history: Review[] = [];
  const listeners = new Set<Listener>();
  const accepted: WsFixture['accepted'] = [];
  const visible = (r: Review, l: { productId?: string | null; identity: Identity }) =>
    (!l.productId || l.productId === r.productId) && (!r.onlyFor || r.onlyFor === l.identity.sub);

  const reviewStream = {
    subscribe: (_: unknown, args: { productId?: string | null; since?: number | null }, ctx: { identity: Identity }) => {
      if (args.productId === 'missing') {
        throw new GraphQLError('product missing not found', { extensions: { code: 'NOT_FOUND' } });
      }
      const listener: Listener = {
        productId: args.productId,
        identity: ctx.identity,
        channel: new Channel<Review>(() => listeners.delete(listener)),
      };
      if (args.since !== undefined && args.since !== null) {
        for (const r of history) if (r.version > args.since && visible(r, listener)) listener.channel.push(r);
      }
      listeners.add(listener);
      return listener.channel;
    },
    resolve: (r: Review, _: unknown, ctx: { identity: Identity }) => ({
      version: r.version,
      body: r.body,
      product: { id: r.productId },
      seenBy: seenBy(ctx.identity),
    }),
  };

  const schema = buildSubgraphSchema([
    {
      typeDefs: parse(reviewsSdl),
      resolvers: {
        Query: { reviewsVersion: () => history.length },
        Subscription: { reviewAdded: reviewStream, reviewAddedUnmarked: reviewStream },
      },
    },
  ]);

  const server = http.createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: '/graphql' });
  useServer<{ identity?: unknown; requestId?: unknown }, { identity?: Identity }>(
    {
      schema,
      async onConnect(ctx) {
        const token = ctx.connectionParams?.identity;
        try {
          if (typeof token !== 'string') throw new Error('no identity');
          const identity = await verifyInternalIdentity(token, INTERNAL_SECRET);
          ctx.extra.identity = identity;
          accepted.push({ sub: identity.sub, role: identity.role, requestId: ctx.connectionParams?.requestId });
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) => ({ identity: ctx.extra.identity }),
    },
    wss,
    0,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const reviewsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

  const products = await startSubgraph({
    ...fixtureSubgraph,
    name: 'products',
    typeDefs: parse(productsSdl),
    resolvers: {
      Query: { product: (_: unknown, { id }: { id: string }) => ({ id }) },
      Product: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        name: (p: { id: string }) => `Product ${p.id}`,
        price: () => 10,
        seenBy: (_: unknown, __: unknown, ctx: BaseContext) => seenBy(ctx.identity),
      },
    },
  });

  // The supergraph names unreachable URLs; SUBGRAPH_URLS points at the real ones.
  const dir = mkdtempSync(join(tmpdir(), 'router-ws-test-'));
  const writeSupergraph: WsFixture['writeSupergraph'] = (file, opts = {}) => {
    const composed = composeServices([
      ...(opts.withoutReviews ? [] : [{ name: 'reviews', url: 'http://reviews.invalid/graphql', typeDefs: parse(reviewsSdl) }]),
      { name: 'products', url: 'http://products.invalid/graphql', typeDefs: parse(productsSdl) },
    ]);
    if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
    const path = join(dir, file);
    writeFileSync(path, composed.supergraphSdl);
    return path;
  };
  const supergraphPath = writeSupergraph('supergraph.graphql');

  return {
    reviewsUrl,
    products,
    accepted,
    openSockets: () => wss.clients.size,
    writeSupergraph,
    dropSockets: () => {
      for (const s of wss.clients) s.terminate();
    },
    listeners: () => listeners.size,
    publish(review) {
      const r = { ...review, version: history.length + 1 };
      history.push(r);
      for (const l of listeners) if (visible(r, l)) l.channel.push(r);
      return r.version;
    },
    config: (env = {}) =>
      routerConfig(supergraphPath, {
        SUBGRAPH_URLS: `reviews=${reviewsUrl},products=${products.url}`,
        ...env,
      }),
    async stop() {
      for (const s of wss.clients) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await products.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
