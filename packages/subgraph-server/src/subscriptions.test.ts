import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { gql } from 'graphql-tag';
import { signInternalIdentity, IDENTITY_HEADER, type Identity } from '@rental/auth';
import { DomainError } from '@rental/errors';
import { createLogger } from '@rental/observability';
import { startSubgraph, type BaseContext, type RunningSubgraph } from './index.js';

const SECRET = 'subscriptions-test-secret-0123456789abcdef';
const logger = createLogger('subgraph-server-test', 'silent');

const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Tick {
    n: Int!
    seenBy: String!
  }
  type Query {
    hello: String!
  }
  type Subscription {
    ticks(count: Int!, fail: String): Tick!
    broadcast: Tick!
  }
`;

/** Iterators handed out, to check that the server calls return() on them. */
const open = new Set<object>();

function ticks(count: number): AsyncIterableIterator<{ n: number }> {
  let i = 0;
  let done = false;
  const it: AsyncIterableIterator<{ n: number }> = {
    [Symbol.asyncIterator]() {
      return it;
    },
    async next() {
      if (done || i >= count) {
        open.delete(it);
        return { done: true, value: undefined };
      }
      await new Promise((r) => setTimeout(r, 20));
      i += 1;
      return { done: false, value: { n: i } };
    },
    async return() {
      done = true;
      open.delete(it);
      return { done: true, value: undefined };
    },
  };
  open.add(it);
  return it;
}

/** Every `broadcast` subscriber gets the same event objects (as the reservations feed hands one parsed message to every listener). */
const listeners = new Set<(event: { n: number }) => void>();
let resolved = 0;
function broadcastStream(): AsyncIterableIterator<{ n: number }> {
  const queue: Array<{ n: number }> = [];
  let wake: (() => void) | undefined;
  const push = (event: { n: number }) => {
    queue.push(event);
    wake?.();
  };
  listeners.add(push);
  const it: AsyncIterableIterator<{ n: number }> = {
    [Symbol.asyncIterator]: () => it,
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      return { done: false, value: queue.shift() as { n: number } };
    },
    async return() {
      listeners.delete(push);
      return { done: true, value: undefined };
    },
  };
  return it;
}

/** Yields tick 1, then ends with a resumable DomainError (`midway`) or a bug (`midway-bug`). */
async function* failingAfterOne(kind: string): AsyncGenerator<{ n: number }> {
  yield { n: 1 };
  if (kind === 'midway') throw new DomainError('TRY_LATER', 'the subscriber fell behind', { resumeFrom: { sinceVersion: 1 } });
  throw new Error('secret internals');
}

const resolvers = {
  Query: { hello: () => 'hi' },
  Subscription: {
    ticks: {
      subscribe: (_: unknown, args: { count: number; fail?: string | null }) => {
        if (args.fail === 'domain') throw new DomainError('NOT_FOUND', 'no such thing');
        if (args.fail === 'bug') throw new Error('secret internals');
        if (args.fail === 'midway' || args.fail === 'midway-bug') return failingAfterOne(args.fail);
        return ticks(args.count);
      },
      resolve: (tick: { n: number }, _: unknown, ctx: BaseContext & { tag: string }) => ({
        n: tick.n,
        seenBy: `${ctx.identity.sub}/${ctx.identity.role}/${ctx.requestId}/${ctx.tag}`,
      }),
    },
    broadcast: {
      subscribe: () => broadcastStream(),
      resolve: (tick: { n: number }, _: unknown, ctx: BaseContext) => {
        resolved += 1;
        return { n: tick.n, seenBy: ctx.identity.sub };
      },
    },
  },
};

let server: RunningSubgraph;
let wsUrl: string;

beforeAll(async () => {
  server = await startSubgraph({
    name: 'subs-test',
    typeDefs,
    resolvers,
    host: '127.0.0.1',
    port: 0,
    internalSecret: SECRET,
    logger,
    production: true,
    subscriptions: true,
    context: (base) => ({ ...base, tag: 'own-context' }),
  });
  wsUrl = server.url.replace('http://', 'ws://');
});

afterAll(async () => {
  await server?.stop();
});

const customer: Identity = { sub: 'cust-1', role: 'CUSTOMER' };

function client(connectionParams: () => Promise<Record<string, unknown>> | Record<string, unknown>, onClose?: (code: number) => void): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    connectionParams,
    on: { closed: (e) => onClose?.((e as { code: number }).code) },
  });
}

interface Outcome {
  data: unknown[];
  errors: unknown[];
  completed: boolean;
}

function run(c: Client, query: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { data: [], errors: [], completed: false };
    c.subscribe(
      { query },
      {
        next: (v) => {
          if (v.data) out.data.push(v.data);
          if (v.errors) out.errors.push(...v.errors);
        },
        error: (e) => {
          out.errors.push(e);
          resolve(out);
        },
        complete: () => {
          out.completed = true;
          resolve(out);
        },
      },
    );
  });
}

describe('subgraph-server subscriptions', () => {
  it('serves a subscription over graphql-ws with the identity and context of the socket', async () => {
    const token = await signInternalIdentity(customer, SECRET);
    const c = client(() => ({ identity: token, requestId: 'req-42' }));
    const out = await run(c, 'subscription { ticks(count: 3) { n seenBy } }');
    expect(out.errors).toEqual([]);
    expect(out.data).toEqual([1, 2, 3].map((n) => ({ ticks: { n, seenBy: 'cust-1/CUSTOMER/req-42/own-context' } })));
    await c.dispose();
  });

  it('refuses a socket without a valid identity with 4403', async () => {
    for (const params of [{}, { identity: 'not-a-jwt' }, { identity: await signInternalIdentity(customer, 'another-secret-0123456789abcdef') }]) {
      let code = 0;
      const c = client(() => params, (closed) => (code = closed));
      const out = await run(c, 'subscription { ticks(count: 1) { n } }');
      expect(out.data).toEqual([]);
      expect(code).toBe(4403);
      await c.dispose();
    }
  });

  it('formats errors like HTTP and keeps the socket open for other subscriptions', async () => {
    const token = await signInternalIdentity(customer, SECRET);
    let closedCode: number | undefined;
    const c = client(() => ({ identity: token }), (code) => (closedCode = code));
    const domain = await run(c, 'subscription { ticks(count: 1, fail: "domain") { n } }');
    expect(domain.errors).toMatchObject([{ message: 'no such thing', extensions: { code: 'NOT_FOUND' } }]);
    const bug = await run(c, 'subscription { ticks(count: 1, fail: "bug") { n } }');
    expect(bug.errors).toMatchObject([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    const invalid = await run(c, 'subscription { nope }');
    expect(invalid.errors[0]).toMatchObject([{ message: expect.stringContaining('nope'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);
    const ok = await run(c, 'subscription { ticks(count: 2) { n } }');
    expect(ok.data).toEqual([{ ticks: { n: 1 } }, { ticks: { n: 2 } }]);
    // A stream that ends with an error: the client gets what came before, then the error with its code and details.
    const midway = await run(c, 'subscription { ticks(count: 3, fail: "midway") { n } }');
    expect(midway.data).toEqual([{ ticks: { n: 1 } }]);
    expect(midway.errors[0]).toMatchObject([{ message: 'the subscriber fell behind', extensions: { code: 'TRY_LATER', resumeFrom: { sinceVersion: 1 } } }]);
    const midwayBug = await run(c, 'subscription { ticks(count: 3, fail: "midway-bug") { n } }');
    expect(midwayBug.errors[0]).toMatchObject([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    expect(closedCode).toBeUndefined();
    await c.dispose();
  });

  it('calls return() on the iterator when the client unsubscribes', async () => {
    const token = await signInternalIdentity(customer, SECRET);
    const c = client(() => ({ identity: token }));
    const before = open.size;
    const got: unknown[] = [];
    const unsubscribe = c.subscribe({ query: 'subscription { ticks(count: 1000) { n } }' }, { next: (v) => got.push(v), error: () => {}, complete: () => {} });
    await expect.poll(() => got.length).toBeGreaterThan(1);
    expect(open.size).toBe(before + 1);
    unsubscribe();
    await expect.poll(() => open.size).toBe(before);
    await c.dispose();
  });

  it('keeps HTTP as it was: the identity header is required', async () => {
    const query = JSON.stringify({ query: '{ hello }' });
    const anonymous = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: query });
    expect(anonymous.status).toBe(401);
    const token = await signInternalIdentity(customer, SECRET);
    const ok = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: token }, body: query });
    expect(await ok.json()).toEqual({ data: { hello: 'hi' } });
  });

  it('closes every socket with 1012 on stop, before HTTP drains', async () => {
    const own = await startSubgraph({
      name: 'subs-stop',
      typeDefs,
      resolvers,
      host: '127.0.0.1',
      port: 0,
      internalSecret: SECRET,
      logger,
      production: false,
      subscriptions: true,
      context: (base) => ({ ...base, tag: 't' }),
    });
    const token = await signInternalIdentity(customer, SECRET);
    let code = 0;
    const c = createClient({
      url: own.url.replace('http://', 'ws://'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { identity: token },
      on: { closed: (e) => (code = (e as { code: number }).code) },
    });
    const before = open.size;
    const got: unknown[] = [];
    c.subscribe({ query: 'subscription { ticks(count: 100000) { n } }' }, { next: (v) => got.push(v), error: () => {}, complete: () => {} });
    await expect.poll(() => got.length).toBeGreaterThan(0);
    await own.stop();
    expect(code).toBe(1012);
    expect(open.size).toBe(before);
    await c.dispose();
  });

  it('one caller\'s identical subscriptions execute each event once; another caller\'s are executed as them', async () => {
    const [mine, theirs] = await Promise.all([signInternalIdentity(customer, SECRET), signInternalIdentity({ sub: 'cust-2', role: 'CUSTOMER' }, SECRET)]);
    const clients = [client(() => ({ identity: mine })), client(() => ({ identity: mine })), client(() => ({ identity: theirs }))];
    const got: Array<Array<{ n: number; seenBy: string }>> = clients.map(() => []);
    const stops = clients.map((c, i) =>
      c.subscribe<{ broadcast: { n: number; seenBy: string } }>({ query: 'subscription { broadcast { n seenBy } }' }, {
        next: (v) => v.data && got[i]!.push(v.data.broadcast),
        error: () => {},
        complete: () => {},
      }),
    );
    for (let i = 0; i < 100 && listeners.size < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(listeners.size).toBe(3);
    resolved = 0;
    const event = { n: 7 };
    for (const push of listeners) push(event);
    for (let i = 0; i < 100 && got.some((g) => g.length === 0); i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([[{ n: 7, seenBy: 'cust-1' }], [{ n: 7, seenBy: 'cust-1' }], [{ n: 7, seenBy: 'cust-2' }]]);
    expect(resolved).toBe(2);
    for (const stop of stops) stop();
    await Promise.all(clients.map((c) => c.dispose()));
  });
});
