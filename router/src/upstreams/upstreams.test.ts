/**
 * Multi-URL subgraphs: `SUBGRAPH_URLS=widgets=http://a/graphql|http://b/graphql`.
 * The fixture's widgets subgraph sits behind small HTTP proxies that count
 * what reaches them and can refuse, reset or report not ready.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@rental/observability';
import { readFileSync } from 'node:fs';
import type { GraphQLDataSource } from '@apollo/gateway';
import { startRouter } from '../app.js';
import type { RouterContext } from '../identity.js';
import { SubscriptionPlanner } from '../subscriptions/planner.js';
import { parseRouterConfig } from '../config.js';
import { metrics } from '../metrics.js';
import { gqlRequest, startFixture, type Fixture } from '../test-fixtures.js';
import { connectionFailure } from './fetcher.js';
import { operationKind } from './operation.js';
import { UpstreamPool } from './pool.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await fx?.stop();
});

type Mode = 'ok' | 'reset' | 'reset-once' | 'not-ready';

interface Proxy {
  url: string;
  mode: Mode;
  /** GraphQL requests that reached the proxy, by operation kind of the body. */
  queries: number;
  mutations: number;
  close(): Promise<void>;
}

/** An HTTP proxy to `target` (the fixture's widgets subgraph). */
async function startProxy(target: string): Promise<Proxy> {
  const p: Proxy = { url: '', mode: 'ok', queries: 0, mutations: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    if (req.url === '/readyz') {
      res.writeHead(p.mode === 'not-ready' ? 503 : 200).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const query = (JSON.parse(body) as { query: string }).query;
      if (/^\s*mutation/.test(query)) p.mutations++;
      else p.queries++;
      if (p.mode === 'reset' || p.mode === 'reset-once') {
        if (p.mode === 'reset-once') p.mode = 'ok';
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      void fetch(target, { method: 'POST', headers, body }).then(
        async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        },
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  p.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  p.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return p;
}

/** A URL nothing listens on (connections are refused). */
async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/graphql`;
}

const QUERY = '{ widget(id: "w1") { id name rating } }';
const MUTATION = 'mutation { addWidget(input: { name: "x", size: 1 }) { id } }';

describe('operation kind of a subgraph fetch', () => {
  it('reads query, mutation and subscription; a bare selection set is a query', () => {
    expect(operationKind('{ a }')).toBe('query');
    expect(operationKind('query Q__widgets__0($id: ID!) { widget(id: $id) { id } }')).toBe('query');
    expect(operationKind('mutation M__widgets__0 { addWidget(input: {name: "a", size: 1}) { id } }')).toBe('mutation');
    expect(operationKind('subscription { s }')).toBe('subscription');
    expect(operationKind('not graphql')).toBe('unknown');
    expect(operationKind('query A { a } mutation B { b }')).toBe('mutation');
  });

  it('knows connection failures (refused, reset) from other errors', () => {
    expect(connectionFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('refused');
    expect(connectionFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('reset');
    expect(connectionFailure(new Error('request to http://x failed, reason: socket hang up'))).toBe('reset');
    expect(connectionFailure(Object.assign(new Error('x'), { cause: { code: 'ECONNREFUSED' } }))).toBe('refused');
    expect(connectionFailure(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).toBeUndefined();
    expect(connectionFailure(new Error('HTTP 500'))).toBeUndefined();
  });
});

describe('upstream pool', () => {
  const logger = createLogger('test', 'silent');
  it('goes round-robin, skips a URL marked down for downMs, and uses all when all are down', async () => {
    const pool = new UpstreamPool('s', 'http://a/graphql|http://b/graphql|http://c/graphql', {
      downMs: 200,
      healthPath: '',
      healthIntervalMs: 0,
      logger,
    });
    expect([pool.pick(), pool.pick(), pool.pick(), pool.pick()]).toEqual([
      'http://a/graphql',
      'http://b/graphql',
      'http://c/graphql',
      'http://a/graphql',
    ]);
    pool.markDown('http://b/graphql');
    const picks = Array.from({ length: 6 }, () => pool.pick());
    expect(picks).not.toContain('http://b/graphql');
    pool.markDown('http://a/graphql');
    pool.markDown('http://c/graphql');
    expect(new Set(Array.from({ length: 6 }, () => pool.pick())).size).toBe(3);
    await new Promise((r) => setTimeout(r, 250));
    expect(pool.isDown('http://b/graphql')).toBe(false);
    pool.close();
  });
});

describe('subscriptions on a multi-URL subgraph', () => {
  it('open their upstream socket on a URL that is up', () => {
    const logger = createLogger('test', 'silent');
    const spec = 'http://127.0.0.1:1/graphql|http://127.0.0.1:2/graphql';
    const pool = new UpstreamPool('widgets', spec, { downMs: 60_000, healthPath: '', healthIntervalMs: 0, logger });
    const planner = new SubscriptionPlanner(
      { widgets: spec },
      () => ({}) as GraphQLDataSource<RouterContext>,
      (_name, s) => (s.includes('|') ? pool.pick() : s),
    );
    planner.update(readFileSync(fx.writeSupergraph(), 'utf8'));
    pool.markDown('http://127.0.0.1:1/graphql');
    const state = (planner as unknown as { current: { state: { wsUrl(n: string): string | undefined } } }).current.state;
    expect([state.wsUrl('widgets'), state.wsUrl('widgets'), state.wsUrl('widgets')]).toEqual([
      'ws://127.0.0.1:2/graphql',
      'ws://127.0.0.1:2/graphql',
      'ws://127.0.0.1:2/graphql',
    ]);
    expect(state.wsUrl('ratings')).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(state.wsUrl('nope')).toBeUndefined();
    pool.close();
  });
});

describe('router with several URLs per subgraph', () => {
  it('SUBGRAPH_URLS accepts url|url and rejects a bad URL among them', () => {
    const base = { INTERNAL_JWT_SECRET: 'x'.repeat(32), JWT_SECRET: 'y'.repeat(32) };
    expect(parseRouterConfig({ ...base, SUBGRAPH_URLS: 'a=http://x/graphql|http://y/graphql, b=http://z/graphql' }).SUBGRAPH_URLS).toEqual({
      a: 'http://x/graphql|http://y/graphql',
      b: 'http://z/graphql',
    });
    expect(() => parseRouterConfig({ ...base, SUBGRAPH_URLS: 'a=http://x/graphql|ftp://y' })).toThrow(/"ftp:\/\/y" is not an http/);
  });

  it('spreads fetches over the URLs', async () => {
    const [a, b] = [await startProxy(fx.widgets.url), await startProxy(fx.widgets.url)];
    const r = await startRouter(fx.config({ SUBGRAPH_URLS: `widgets=${a.url}|${b.url}`, SUBGRAPH_HEALTH_PATH: 'off' }));
    try {
      for (let i = 0; i < 10; i++) expect((await gqlRequest(r.url, QUERY)).body.errors).toBeUndefined();
      expect(a.queries).toBe(5);
      expect(b.queries).toBe(5);
    } finally {
      await r.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('retries a query on another URL when the connection is refused, and skips the refusing URL for a while', async () => {
    const dead = await deadUrl();
    const live = await startProxy(fx.widgets.url);
    const r = await startRouter(
      fx.config({ SUBGRAPH_URLS: `widgets=${dead}|${live.url}`, SUBGRAPH_HEALTH_PATH: 'off', SUBGRAPH_DOWN_MS: '60000' }),
    );
    try {
      for (let i = 0; i < 6; i++) expect((await gqlRequest(r.url, QUERY)).body).toMatchObject({ data: { widget: { id: 'w1' } } });
      // Marked down after the first refusal: mutations go to the live URL only.
      for (let i = 0; i < 3; i++) expect((await gqlRequest(r.url, MUTATION)).body.errors).toBeUndefined();
      expect(live.mutations).toBe(3);
      const text = await metrics.metrics();
      expect(text).toMatch(/router_subgraph_retries_total\{subgraph="widgets",reason="refused"\} [1-9]/);
      expect(text).toContain(`router_subgraph_url_up{subgraph="widgets",url="${dead}"} 0`);
    } finally {
      await r.stop();
      await live.close();
    }
  });

  it('never retries a mutation: a refused or reset mutation fails with SERVICE_UNAVAILABLE and reached the subgraph at most once', async () => {
    const dead = await deadUrl();
    const resetting = await startProxy(fx.widgets.url);
    resetting.mode = 'reset';
    const live = await startProxy(fx.widgets.url);
    // SUBGRAPH_DOWN_MS=0: the refusing URL keeps its turn, so every third fetch meets it.
    const r = await startRouter(
      fx.config({ SUBGRAPH_URLS: `widgets=${dead}|${resetting.url}|${live.url}`, SUBGRAPH_HEALTH_PATH: 'off', SUBGRAPH_DOWN_MS: '0' }),
    );
    try {
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await gqlRequest(r.url, MUTATION));
      const failed = results.filter((x) => x.body.errors);
      expect(failed.length).toBe(4);
      for (const f of failed) expect(f.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      // Each mutation was sent once: 2 reached the resetting proxy (and died there), 2 the live one.
      expect(resetting.mutations).toBe(2);
      expect(live.mutations).toBe(2);
      // Queries, on the other hand, all succeed: refused and reset ones are sent again elsewhere.
      for (let i = 0; i < 6; i++) expect((await gqlRequest(r.url, QUERY)).body.errors).toBeUndefined();
      expect(live.queries).toBe(6);
    } finally {
      await r.stop();
      await Promise.all([resetting.close(), live.close()]);
    }
  });

  it('a single-URL subgraph: a reset query is sent once more on a fresh connection; a reset mutation is not', async () => {
    const only = await startProxy(fx.widgets.url);
    const r = await startRouter(fx.config({ SUBGRAPH_URLS: `widgets=${only.url}` }));
    try {
      only.mode = 'reset-once';
      expect((await gqlRequest(r.url, QUERY)).body).toMatchObject({ data: { widget: { id: 'w1' } } });
      expect(only.queries).toBe(2);
      only.mode = 'reset-once';
      const m = await gqlRequest(r.url, MUTATION);
      expect(m.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(only.mutations).toBe(1);
      only.mode = 'reset';
      expect((await gqlRequest(r.url, QUERY)).body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(only.queries).toBe(4);
    } finally {
      await r.stop();
      await only.close();
    }
  });

  it('skips a URL whose readiness check fails, and uses it again once ready', async () => {
    const [a, b] = [await startProxy(fx.widgets.url), await startProxy(fx.widgets.url)];
    b.mode = 'not-ready';
    const r = await startRouter(fx.config({ SUBGRAPH_URLS: `widgets=${a.url}|${b.url}`, SUBGRAPH_HEALTH_INTERVAL_MS: '100' }));
    try {
      await new Promise((res) => setTimeout(res, 300));
      for (let i = 0; i < 4; i++) expect((await gqlRequest(r.url, MUTATION)).body.errors).toBeUndefined();
      expect(b.mutations).toBe(0);
      b.mode = 'ok';
      await new Promise((res) => setTimeout(res, 300));
      for (let i = 0; i < 4; i++) expect((await gqlRequest(r.url, QUERY)).body.errors).toBeUndefined();
      expect(b.queries).toBe(2);
    } finally {
      await r.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
