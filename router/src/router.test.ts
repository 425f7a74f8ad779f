import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@rental/config';
import { startRouter, type RunningRouter } from './app.js';
import { parseRouterConfig } from './config.js';
import { gqlRequest, INTERNAL_SECRET, startFixture, token, USER_SECRET, type Fixture } from './test-fixtures.js';

let fx: Fixture;
let router: RunningRouter;
const base = () => router.url.replace(/\/graphql$/, '');

beforeAll(async () => {
  fx = await startFixture();
  router = await startRouter(fx.config());
});
afterAll(async () => {
  await router?.stop();
  await fx?.stop();
});

describe('identity', () => {
  it('anonymous callers browse, and subgraphs see a verified ANONYMOUS identity and the request id', async () => {
    const res = await gqlRequest(router.url, '{ whoami { sub role requestId } widget(id: "w1") { name rating ratedBy } }', {
      headers: { 'x-request-id': 'req-abc-1' },
    });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      whoami: { sub: 'anonymous', role: 'ANONYMOUS', requestId: 'req-abc-1' },
      widget: { name: 'Sprocket', rating: 5, ratedBy: 'ANONYMOUS' },
    });
    expect(res.headers.get('x-request-id')).toBe('req-abc-1');
  });

  it('passes a signed-in caller (sub, role, store) to every subgraph of the plan', async () => {
    const t = await token('STAFF', 'bob', { storeId: 'S1' });
    const res = await gqlRequest(router.url, '{ whoami { sub role storeId requestId } widget(id: "w1") { ratedBy } }', { token: t });
    expect(res.body.errors).toBeUndefined();
    const who = res.body.data?.whoami as Record<string, string>;
    expect(who).toMatchObject({ sub: 'bob', role: 'STAFF', storeId: 'S1' });
    expect(who.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.data?.widget).toEqual({ ratedBy: 'STAFF' });
  });

  it.each([
    ['signed with another secret', () => token('ADMIN', 'mallory', { secret: 'x'.repeat(40) })],
    ['expired', () => token('CUSTOMER', 'carol', { exp: Math.floor(Date.now() / 1000) - 60 })],
    ['not a JWT', async () => 'not-a-token'],
    ['forged payload', async () => {
      const [h, , s] = (await token('CUSTOMER', 'carol')).split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'carol', role: 'ADMIN', exp: 9999999999 })).toString('base64url');
      return `${h}.${payload}.${s}`;
    }],
  ])('a token %s → 401 UNAUTHENTICATED, no data, nothing executed', async (_name, make) => {
    const res = await gqlRequest(router.url, '{ whoami { sub } }', { token: await make() });
    expect(res.status).toBe(401);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a malformed Authorization header → UNAUTHENTICATED', async () => {
    const res = await gqlRequest(router.url, '{ whoami { sub } }', { headers: { authorization: 'Basic abc' } });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('subgraphs refuse identities not signed with the shared internal secret', async () => {
    const other = await startRouter(fx.config({ INTERNAL_JWT_SECRET: 'a-different-internal-secret-0123456789' }));
    try {
      const res = await gqlRequest(other.url, '{ whoami { sub } }');
      expect(res.body.data).toBeNull();
      expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(res.body)).not.toContain('127.0.0.1');
    } finally {
      await other.stop();
    }
  });
});

describe('errors', () => {
  it('@inaccessible fields are not part of the API', async () => {
    const res = await gqlRequest(router.url, 'mutation { internalOnly(id: "1") }');
    expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.errors?.[0]?.message).toMatch(/Cannot query field "internalOnly"/);
  });

  it('subgraph error codes and fields pass through unchanged', async () => {
    const res = await gqlRequest(router.url, '{ coded }');
    expect(res.body.errors?.[0]).toMatchObject({
      message: 'coded: try again later',
      path: ['coded'],
      extensions: { code: 'TRY_LATER', field: 'coded' },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/stacktrace|at .*\.ts/);
  });

  it.each([
    ['wrong literal type', 'mutation { addWidget(input: { name: "x", size: "big" }) { id } }', 'size'],
    ['fractional Int', 'mutation { addWidget(input: { name: "x", size: 1.5 }) { id } }', 'size'],
    ['unknown input field', 'mutation { addWidget(input: { name: "x", size: 1, colour: "red" }) { id } }', 'colour'],
    ['missing input field', 'mutation { addWidget(input: { name: "x" }) { id } }', 'size'],
  ])('inline bad input (%s) → BAD_USER_INPUT naming the field', async (_name, query, field) => {
    const res = await gqlRequest(router.url, query);
    expect(res.body.data).toBeUndefined();
    const err = res.body.errors?.[0];
    expect(err?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(err?.message).toContain(field);
  });

  it.each([
    ['wrong type', { name: 'x', size: 'big' }, 'size'],
    ['unknown input field', { name: 'x', size: 1, colour: 'red' }, 'colour'],
  ])('the same bad input through variables (%s) → BAD_USER_INPUT naming the field', async (_name, input, field) => {
    const res = await gqlRequest(router.url, 'mutation Add($input: AddWidgetInput!) { addWidget(input: $input) { id } }', {
      variables: { input },
    });
    expect(res.body.data).toBeUndefined();
    const err = res.body.errors?.[0];
    expect(err?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(err?.message).toContain(field);
  });

  it('malformed JSON → 400 with a GraphQL-shaped error', async () => {
    const res = await fetch(router.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    expect(JSON.stringify(body)).not.toMatch(/SyntaxError|at /);
  });

  it('a body over the limit → 413 with a GraphQL-shaped error', async () => {
    const huge = JSON.stringify({ query: `{ whoami { sub } } # ${'x'.repeat(1_100_000)}` });
    const res = await fetch(router.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
  });

  it('outside production an internal error keeps its message; never a stack', async () => {
    const res = await gqlRequest(router.url, '{ crash }');
    expect(res.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(res.body)).not.toContain('stacktrace');
  });
});

describe('HTTP endpoints', () => {
  it('serves Apollo Sandbox on GET /graphql for browsers', async () => {
    const res = await fetch(router.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/sandbox/i);
  });

  it('/healthz and /readyz answer 200 while serving', async () => {
    const live = await fetch(`${base()}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${base()}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('/metrics exposes operations, errors by code and subgraph fetches', async () => {
    await gqlRequest(router.url, 'query MetricsProbe { widget(id: "w1") { id } }');
    await gqlRequest(router.url, 'query CodedProbe { coded }');
    const text = await (await fetch(`${base()}/metrics`)).text();
    expect(text).toMatch(/graphql_requests_total\{service="router",operation="MetricsProbe",code="OK"\} \d+/);
    expect(text).toMatch(/graphql_errors_total\{service="router",code="TRY_LATER"\} \d+/);
    expect(text).toMatch(/graphql_request_duration_seconds_bucket\{.*service="router".*operation="MetricsProbe"/);
    expect(text).toMatch(/router_subgraph_fetch_duration_seconds_count\{subgraph="widgets",outcome="ok"\} \d+/);
  });

  it('CORS: allowed origins only', async () => {
    const cors = await startRouter(fx.config({ CORS_ORIGINS: 'https://app.example' }));
    try {
      const pre = await fetch(cors.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const other = await fetch(cors.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await cors.stop();
    }
  });
});

describe('production mode', () => {
  let prod: RunningRouter;
  beforeAll(async () => {
    prod = await startRouter(fx.config({ NODE_ENV: 'production', ALLOW_HS256_IN_PRODUCTION: 'true' }));
  });
  afterAll(() => prod?.stop());

  it('has no landing page and no introspection', async () => {
    const page = await fetch(prod.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/sandbox/i);
    const res = await gqlRequest(prod.url, '{ __schema { types { name } } }');
    expect(res.body.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('hides internal error messages', async () => {
    const res = await gqlRequest(prod.url, '{ crash }');
    expect(res.body.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(res.body)).not.toContain('secret internal detail');
  });
});

describe('subgraph URLs', () => {
  it('SUBGRAPH_URLS overrides the URLs written in the supergraph', async () => {
    const path = fx.writeSupergraph(
      { widgets: 'http://127.0.0.1:9/graphql', ratings: 'http://127.0.0.1:9/graphql' },
      'unreachable.graphql',
    );
    const plain = await startRouter(fx.config({ SUPERGRAPH_PATH: path }));
    const overridden = await startRouter(
      fx.config({ SUPERGRAPH_PATH: path, SUBGRAPH_URLS: `widgets=${fx.widgets.url}, ratings=${fx.ratings.url}` }),
    );
    try {
      const down = await gqlRequest(plain.url, '{ widget(id: "w1") { name } }');
      expect(down.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(down.body)).not.toContain('127.0.0.1:9');
      const up = await gqlRequest(overridden.url, '{ widget(id: "w1") { name rating } }');
      expect(up.body).toEqual({ data: { widget: { name: 'Sprocket', rating: 5 } } });
      expect(Object.fromEntries(overridden.subgraphs.map((s) => [s.name, s.url]))).toEqual({
        widgets: fx.widgets.url,
        ratings: fx.ratings.url,
      });
    } finally {
      await Promise.all([plain.stop(), overridden.stop()]);
    }
  });

  it('with SUPERGRAPH_WATCH, a changed supergraph file is picked up; a broken one is ignored', async () => {
    const path = fx.writeSupergraph({}, 'watched.graphql');
    const watched = await startRouter(fx.config({ SUPERGRAPH_PATH: path, SUPERGRAPH_WATCH: 'true' }));
    try {
      const ok = await gqlRequest(watched.url, '{ widget(id: "w1") { rating } }');
      expect(ok.body).toEqual({ data: { widget: { rating: 5 } } });
      fx.writeSupergraph({ ratings: 'http://127.0.0.1:9/graphql' }, 'watched.graphql');
      const deadline = Date.now() + 8_000;
      let res = ok;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300));
        res = await gqlRequest(watched.url, '{ widget(id: "w1") { rating } }');
        if (res.body.errors) break;
      }
      expect(res.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      writeFileSync(path, 'this is not a supergraph');
      await new Promise((r) => setTimeout(r, 2_500));
      const still = await gqlRequest(watched.url, '{ widget(id: "w1") { name } }');
      expect(still.body).toEqual({ data: { widget: { name: 'Sprocket' } } });
    } finally {
      await watched.stop();
    }
  }, 20_000);

  it('an override naming an unknown subgraph is a config error naming it', async () => {
    await expect(startRouter(fx.config({ SUBGRAPH_URLS: 'widgetz=http://127.0.0.1:1/graphql' }))).rejects.toThrow(
      /SUBGRAPH_URLS: unknown subgraph "widgetz"/,
    );
  });

  it('bad override syntax or scheme is a config error', () => {
    const env = { INTERNAL_JWT_SECRET: INTERNAL_SECRET, JWT_SECRET: USER_SECRET };
    expect(() => parseRouterConfig({ ...env, SUBGRAPH_URLS: 'widgets=ftp://x/graphql' })).toThrow(ConfigError);
    expect(() => parseRouterConfig({ ...env, SUBGRAPH_URLS: 'widgets' })).toThrow(/SUBGRAPH_URLS/);
    expect(() => parseRouterConfig({ ...env, SUBGRAPH_URLS: 'a=http://x/graphql,a=http://y/graphql' })).toThrow(/given twice/);
    expect(parseRouterConfig({ ...env, SUBGRAPH_URLS: 'a=http://x:1/graphql, b=https://y/graphql' }).SUBGRAPH_URLS).toEqual({
      a: 'http://x:1/graphql',
      b: 'https://y/graphql',
    });
  });

  it('a missing supergraph file is a config error', async () => {
    await expect(startRouter(fx.config({ SUPERGRAPH_PATH: '/nonexistent/supergraph.graphql' }))).rejects.toThrow(
      /SUPERGRAPH_PATH: cannot read/,
    );
  });
});

describe('shutdown', () => {
  it('fails readiness first, drains an in-flight request, then refuses new ones', async () => {
    const r = await startRouter(fx.config({ SHUTDOWN_DELAY_MS: '300' }));
    const rBase = r.url.replace(/\/graphql$/, '');
    const inFlight = gqlRequest(r.url, '{ slow(ms: 900) }');
    await new Promise((res) => setTimeout(res, 150));
    const stopped = r.stop();
    const ready = await fetch(`${rBase}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'draining' });
    const result = await inFlight;
    expect(result.body).toEqual({ data: { slow: 900 } });
    await stopped;
    await expect(fetch(`${rBase}/healthz`)).rejects.toThrow();
  });
});
