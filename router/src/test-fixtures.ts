/**
 * Test fixtures (not shipped): two small, domain-free subgraphs served by the
 * real subgraph server, a supergraph composed from them on the fly, and
 * helpers to call the router over HTTP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from './subscriptions/graphql.js';
import { composeServices } from '@apollo/composition';
import { signUserToken, type UserRole } from '@rental/auth';
import { DomainError } from '@rental/errors';
import { createLogger } from '@rental/observability';
import { startSubgraph, type BaseContext, type RunningSubgraph } from '@rental/subgraph-server';
import { parseRouterConfig, type RouterConfig } from './config.js';

export const INTERNAL_SECRET = process.env.INTERNAL_JWT_SECRET ?? 'fixture-internal-secret-0123456789abcdef';
export const USER_SECRET = process.env.JWT_SECRET ?? 'fixture-user-secret-0123456789abcdefghij';
export const silent = createLogger('fixture', 'silent');

/** A test router's configuration: the fixture secrets, a free port, quiet logs, `supergraphPath`, and `env` on top. */
export function routerConfig(supergraphPath: string, env: Record<string, string> = {}): RouterConfig {
  return parseRouterConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    INTERNAL_JWT_SECRET: INTERNAL_SECRET,
    JWT_SECRET: USER_SECRET,
    ROUTER_PORT: '0',
    SUPERGRAPH_PATH: supergraphPath,
    ...env,
  });
}

/** The subgraph server options every fixture subgraph shares (the fixture secret, a free port, quiet logs). */
export const fixtureSubgraph = {
  host: '127.0.0.1',
  port: 0,
  internalSecret: INTERNAL_SECRET,
  logger: silent,
  production: false,
  context: (base: BaseContext) => base,
};

const widgetsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@inaccessible"])
  type Widget @key(fields: "id") { id: ID! name: String! size: Int! }
  type Caller { sub: String! role: String! storeId: String requestId: String! }
  input AddWidgetInput { name: String! size: Int! }
  type Query {
    widget(id: ID!): Widget
    whoami: Caller!
    slow(ms: Int!): Int!
    coded: Int
    crash: Int
  }
  type Mutation {
    addWidget(input: AddWidgetInput!): Widget!
    internalOnly(id: ID!): Int! @inaccessible
  }
`;

const ratingsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Widget @key(fields: "id") { id: ID! rating: Int! ratedBy: String! }
`;

const widgets = new Map([['w1', { id: 'w1', name: 'Sprocket', size: 3 }]]);

export interface Fixture {
  widgets: RunningSubgraph;
  ratings: RunningSubgraph;
  dir: string;
  /** Writes a supergraph of both subgraphs at the given URLs; returns its path. */
  writeSupergraph(urls?: { widgets?: string; ratings?: string }, file?: string): string;
  config(env?: Record<string, string>): RouterConfig;
  stop(): Promise<void>;
}

export async function startFixture(opts: { subgraphSecret?: string } = {}): Promise<Fixture> {
  const common = { ...fixtureSubgraph, internalSecret: opts.subgraphSecret ?? INTERNAL_SECRET };
  const widgetsServer = await startSubgraph({
    ...common,
    name: 'widgets',
    typeDefs: parse(widgetsSdl),
    resolvers: {
      Query: {
        widget: (_: unknown, { id }: { id: string }) => widgets.get(id) ?? null,
        whoami: (_: unknown, __: unknown, ctx: BaseContext) => ({ ...ctx.identity, requestId: ctx.requestId }),
        slow: async (_: unknown, { ms }: { ms: number }) => {
          await new Promise((r) => setTimeout(r, ms));
          return ms;
        },
        coded: () => {
          throw new DomainError('TRY_LATER', 'coded: try again later', { field: 'coded' });
        },
        crash: () => {
          throw new Error('secret internal detail');
        },
      },
      Mutation: {
        addWidget: (_: unknown, { input }: { input: { name: string; size: number } }) => {
          const w = { id: `w${widgets.size + 1}`, ...input };
          widgets.set(w.id, w);
          return w;
        },
        internalOnly: () => 1,
      },
      Widget: { __resolveReference: (ref: { id: string }) => widgets.get(ref.id) ?? null },
    },
  });
  const ratingsServer = await startSubgraph({
    ...common,
    name: 'ratings',
    typeDefs: parse(ratingsSdl),
    resolvers: {
      Widget: {
        __resolveReference: (ref: { id: string }, ctx: BaseContext) => ({ id: ref.id, rating: 5, ratedBy: ctx.identity.role }),
      },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'router-test-'));
  const writeSupergraph: Fixture['writeSupergraph'] = (urls = {}, file = 'supergraph.graphql') => {
    const result = composeServices([
      { name: 'widgets', url: urls.widgets ?? widgetsServer.url, typeDefs: parse(widgetsSdl) },
      { name: 'ratings', url: urls.ratings ?? ratingsServer.url, typeDefs: parse(ratingsSdl) },
    ]);
    if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
    const path = join(dir, file);
    writeFileSync(path, result.supergraphSdl);
    return path;
  };
  const defaultPath = writeSupergraph();
  return {
    widgets: widgetsServer,
    ratings: ratingsServer,
    dir,
    writeSupergraph,
    config: (env = {}) => routerConfig(defaultPath, env),
    async stop() {
      await Promise.all([widgetsServer.stop(), ratingsServer.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function token(role: UserRole, sub: string, extra: { storeId?: string; secret?: string; exp?: number } = {}) {
  return signUserToken(
    { sub, role, ...(extra.storeId ? { storeId: extra.storeId } : {}) },
    { secret: extra.secret ?? USER_SECRET, ...(extra.exp !== undefined ? { expiresIn: extra.exp } : {}) },
  );
}

export interface GqlResult {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
  };
}

export async function gqlRequest(
  url: string,
  query: string,
  opts: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> } = {},
): Promise<GqlResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    body: JSON.stringify({ query, variables: opts.variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResult['body'] };
}
