/**
 * Subscriptions through the router with real sockets: a graphql-ws client,
 * the router, a graphql-ws subgraph owning the subscription (reviews) and an
 * HTTP subgraph resolving the event's entities (products).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import { startRouter, type RunningRouter } from './app.js';
import { token } from './test-fixtures.js';
import { startWsFixture, type WsFixture } from './ws-fixtures.js';
import { REPLAY_LOG_LIMIT } from './subscriptions/shared-upstream.js';

let fx: WsFixture;
let router: RunningRouter;
const clients: Client[] = [];

const wsUrl = (r: RunningRouter) => r.url.replace(/^http/, 'ws');

beforeAll(async () => {
  fx = await startWsFixture();
  router = await startRouter(fx.config({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' }));
});
// Every test ends its subscriptions; wait for the subgraph to see that, so
// listener counts start from zero.
afterEach(async () => {
  await vi.waitFor(() => expect(fx.listeners()).toBe(0), { timeout: 5_000, interval: 10 });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await router?.stop();
  await fx?.stop();
});

interface Closed {
  code: number;
  reason: string;
}

function client(r: RunningRouter, params: Record<string, unknown> = {}) {
  const closed: Closed[] = [];
  const c = createClient({
    url: wsUrl(r),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: params,
    on: { closed: (e) => closed.push({ code: (e as Closed).code, reason: String((e as Closed).reason) }) },
    onNonLazyError: () => {},
  });
  clients.push(c);
  return { c, closed };
}

/** One operation on a graphql-ws client, recording what arrives. */
function run(c: Client, query: string, variables: Record<string, unknown> = {}) {
  const state = {
    results: [] as ExecutionResult[],
    error: undefined as unknown,
    completed: false,
    stop: () => {},
  };
  state.stop = c.subscribe(
    { query, variables },
    {
      next: (v) => state.results.push(v as ExecutionResult),
      error: (e) => {
        state.error = e;
      },
      complete: () => {
        state.completed = true;
      },
    },
  );
  return state;
}

const REVIEWS = `subscription Reviews($p: ID, $since: Int) {
  reviewAdded(productId: $p, since: $since) { version body seenBy product { id name price seenBy } }
}`;

/** Waits until the reviews subgraph has `n` more listeners than `before`. */
async function listening(before: number, n = 1) {
  await vi.waitFor(() => expect(fx.listeners()).toBe(before + n), { timeout: 5_000, interval: 10 });
}

/** A socket speaking graphql-transport-ws by hand, for protocol-level tests. */
async function rawSocket(r: RunningRouter) {
  const ws = new WebSocket(wsUrl(r), 'graphql-transport-ws');
  const messages: Array<Record<string, unknown>> = [];
  const closed = new Promise<Closed>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data) => messages.push(JSON.parse((data as Buffer).toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed };
}

/** Only the subgraph that owns the subscription: no entity fetch per event. */
const SMALL = 'subscription Small($p: ID, $since: Int) { reviewAdded(productId: $p, since: $since) { version body } }';

async function slowConsumersClosed(r: RunningRouter): Promise<number> {
  const text = await (await fetch(r.url.replace(/\/graphql$/, '/metrics'))).text();
  return Number(/^router_ws_slow_consumers_closed_total (\d+)/m.exec(text)?.[1] ?? 0);
}

async function eventsTimed(r: RunningRouter): Promise<number> {
  const text = await (await fetch(r.url.replace(/\/graphql$/, '/metrics'))).text();
  return Number(/^router_subscription_event_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
}

async function gauge(r: RunningRouter): Promise<number> {
  const text = await (await fetch(r.url.replace(/\/graphql$/, '/metrics'))).text();
  const m = /^graphql_subscriptions_open\{service="router"\} (\d+)/m.exec(text);
  return Number(m?.[1] ?? 0);
}

describe('federated subscriptions', () => {
  it('resolves fields of each event across subgraphs, as the caller, on both subgraphs', async () => {
    const alice = await token('CUSTOMER', 'alice');
    const { c } = client(router, { authorization: `Bearer ${alice}`, requestId: 'ws-req-1' });
    const before = fx.listeners();
    const timed = await eventsTimed(router);
    const sub = run(c, REVIEWS, { p: 'p1' });
    await listening(before);
    const version = fx.publish({ productId: 'p1', body: 'great' });
    await vi.waitFor(() => expect(sub.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    // The router timed its part of the event (subgraph message in → result out to the socket).
    expect((await eventsTimed(router)) - timed).toBe(1);
    expect(sub.results[0]).toEqual({
      data: {
        reviewAdded: {
          version,
          body: 'great',
          seenBy: 'alice:CUSTOMER',
          product: { id: 'p1', name: 'Product p1', price: 10, seenBy: 'alice:CUSTOMER' },
        },
      },
    });
    expect(fx.accepted).toContainEqual({ sub: 'alice', role: 'CUSTOMER', requestId: 'ws-req-1' });
    sub.stop();
  });

  it('one caller\'s identical subscriptions resolve each event once; another caller on the same operation gets only their own, resolved as them', async () => {
    const [alice, dave] = await Promise.all([token('CUSTOMER', 'alice'), token('CUSTOMER', 'dave')]);
    const tabs = [client(router, { authorization: `Bearer ${alice}` }), client(router, { authorization: `Bearer ${alice}` }), client(router, { authorization: `Bearer ${alice}` })];
    const daves = client(router, { authorization: `Bearer ${dave}` });
    const before = fx.listeners();
    const aliceSubs = tabs.map((t) => run(t.c, REVIEWS, { p: 'p-shared' }));
    const daveSub = run(daves.c, REVIEWS, { p: 'p-shared' });
    // Alice's three tabs share one upstream subscription; Dave has his own.
    await listening(before, 2);
    const executions = async () => {
      const text = await (await fetch(router.url.replace(/\/graphql$/, '/metrics'))).text();
      const n = (outcome: string) => Number(new RegExp(`^router_subscription_event_executions_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return { executed: n('executed'), shared: n('shared') };
    };
    const start = await executions();
    const privateVersion = fx.publish({ productId: 'p-shared', body: 'only for alice', onlyFor: 'alice' });
    const publicVersion = fx.publish({ productId: 'p-shared', body: 'for all' });
    for (const s of aliceSubs) await vi.waitFor(() => expect(s.results).toHaveLength(2), { timeout: 2_000, interval: 10 });
    await vi.waitFor(() => expect(daveSub.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    await new Promise((r) => setTimeout(r, 100));
    for (const s of aliceSubs) {
      expect(s.results.map((r) => (r.data?.reviewAdded as { version: number; product: { seenBy: string } }))).toMatchObject([
        { version: privateVersion, product: { seenBy: 'alice:CUSTOMER' } },
        { version: publicVersion, product: { seenBy: 'alice:CUSTOMER' } },
      ]);
    }
    // Dave never sees Alice's review, and his copy of the public one is resolved as him.
    expect(daveSub.results.map((r) => r.data?.reviewAdded)).toMatchObject([{ version: publicVersion, seenBy: 'dave:CUSTOMER', product: { seenBy: 'dave:CUSTOMER' } }]);
    // Alice's 3 tabs × 2 events: 2 executions, 4 shared; Dave's event: 1 more execution.
    const end = await executions();
    expect({ executed: end.executed - start.executed, shared: end.shared - start.shared }).toEqual({ executed: 3, shared: 4 });
    for (const s of [...aliceSubs, daveSub]) s.stop();
  });

  it('one caller\'s connections share one upstream socket per subgraph; another caller gets their own; it closes with the last subscription', async () => {
    const [erin, frank] = await Promise.all([token('CUSTOMER', 'erin'), token('CUSTOMER', 'frank')]);
    const sockets = fx.openSockets();
    const before = fx.listeners();
    const erins = [client(router, { authorization: `Bearer ${erin}` }), client(router, { authorization: `Bearer ${erin}` })];
    const franks = client(router, { authorization: `Bearer ${frank}` });
    const subs = [...erins.map((e) => run(e.c, SMALL, { p: 'p-pool' })), run(franks.c, SMALL, { p: 'p-pool' })];
    await listening(before, 2);
    expect(fx.openSockets()).toBe(sockets + 2);
    for (const s of subs) s.stop();
    await vi.waitFor(() => expect(fx.openSockets()).toBe(sockets), { timeout: 5_000, interval: 10 });
  });

  it('delivers only what the subgraph lets the caller see, in order', async () => {
    const bob = await token('CUSTOMER', 'bob');
    const carol = await token('CUSTOMER', 'carol');
    const b = client(router, { Authorization: `Bearer ${bob}` });
    const cc = client(router, { authorization: `Bearer ${carol}` });
    const before = fx.listeners();
    const bobSub = run(b.c, REVIEWS, { p: 'p2' });
    const carolSub = run(cc.c, REVIEWS, { p: 'p2' });
    await listening(before, 2);
    const v1 = fx.publish({ productId: 'p2', body: 'for bob', onlyFor: 'bob' });
    const v2 = fx.publish({ productId: 'p2', body: 'for all' });
    const v3 = fx.publish({ productId: 'p3', body: 'other product' });
    await vi.waitFor(() => expect(carolSub.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    await vi.waitFor(() => expect(bobSub.results).toHaveLength(2), { timeout: 2_000, interval: 10 });
    const versions = (s: typeof bobSub) => s.results.map((r) => (r.data?.reviewAdded as { version: number }).version);
    expect(versions(bobSub)).toEqual([v1, v2]);
    expect(versions(carolSub)).toEqual([v2]);
    expect(versions(bobSub)).not.toContain(v3);
    expect(carolSub.results[0]?.data?.reviewAdded).toMatchObject({ seenBy: 'carol:CUSTOMER', product: { seenBy: 'carol:CUSTOMER' } });
    bobSub.stop();
    carolSub.stop();
  });

  it('forwards variables unchanged: `since` makes the subgraph replay what was missed, then live ones', async () => {
    const dave = await token('CUSTOMER', 'dave');
    const first = fx.publish({ productId: 'p4', body: 'one' });
    const second = fx.publish({ productId: 'p4', body: 'two' });
    const third = fx.publish({ productId: 'p4', body: 'three' });
    const { c } = client(router, { authorization: `Bearer ${dave}` });
    const before = fx.listeners();
    const sub = run(c, REVIEWS, { p: 'p4', since: first });
    await listening(before);
    const fourth = fx.publish({ productId: 'p4', body: 'four' });
    await vi.waitFor(() => expect(sub.results).toHaveLength(3), { timeout: 2_000, interval: 10 });
    expect(sub.results.map((r) => (r.data?.reviewAdded as { version: number }).version)).toEqual([second, third, fourth]);
    sub.stop();
  });

  it('anonymous callers connect; subgraphs see ANONYMOUS', async () => {
    const { c } = client(router);
    const before = fx.listeners();
    const sub = run(c, REVIEWS, { p: 'p5' });
    await listening(before);
    fx.publish({ productId: 'p5', body: 'hi' });
    await vi.waitFor(() => expect(sub.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    expect(sub.results[0]?.data?.reviewAdded).toMatchObject({
      seenBy: 'anonymous:ANONYMOUS',
      product: { seenBy: 'anonymous:ANONYMOUS' },
    });
    sub.stop();
  });

  it('runs queries sent over the socket through the gateway', async () => {
    const erin = await token('STAFF', 'erin', { storeId: 'S1' });
    const { c } = client(router, { authorization: `Bearer ${erin}` });
    const q = run(c, '{ product(id: "p9") { name seenBy } }');
    await vi.waitFor(() => expect(q.completed).toBe(true), { timeout: 2_000, interval: 10 });
    expect(q.results).toEqual([{ data: { product: { name: 'Product p9', seenBy: 'erin:STAFF' } } }]);
  });
});

const versionsOf = (s: { results: ExecutionResult[] }) => s.results.map((r) => (r.data?.reviewAdded ?? r.data?.reviewAddedUnmarked) as { version: number }).map((e) => e.version);

async function upstreamJoins(r: RunningRouter): Promise<{ opened: number; joined: number }> {
  const text = await (await fetch(r.url.replace(/\/graphql$/, '/metrics'))).text();
  const n = (outcome: string) => Number(new RegExp(`^router_subscription_upstreams_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { opened: n('opened'), joined: n('joined') };
}

describe('shared upstream subscriptions (@replayAfter)', () => {
  it('with the position given, a late joiner gets what the shared stream delivered, then live ones, once and in order; the subgraph sees one subscription', async () => {
    const gina = await token('CUSTOMER', 'gina');
    const v1 = fx.publish({ productId: 'p-replay', body: 'one' });
    const v2 = fx.publish({ productId: 'p-replay', body: 'two' });
    const before = fx.listeners();
    const joinsBefore = await upstreamJoins(router);
    const first = run(client(router, { authorization: `Bearer ${gina}` }).c, SMALL, { p: 'p-replay', since: 0 });
    await listening(before);
    const v3 = fx.publish({ productId: 'p-replay', body: 'three' });
    await vi.waitFor(() => expect(versionsOf(first)).toContain(v3), { timeout: 2_000, interval: 10 });
    // Another screen of Gina's, later, on another connection: the same stream from the start.
    const late = run(client(router, { authorization: `Bearer ${gina}` }).c, SMALL, { p: 'p-replay', since: 0 });
    await vi.waitFor(() => expect(versionsOf(late)).toEqual(versionsOf(first)), { timeout: 2_000, interval: 10 });
    const v4 = fx.publish({ productId: 'p-replay', body: 'four' });
    for (const s of [first, late]) await vi.waitFor(() => expect(versionsOf(s)).toContain(v4), { timeout: 2_000, interval: 10 });
    const all = versionsOf(first).filter((v) => [v1, v2, v3, v4].includes(v));
    expect(all).toEqual([v1, v2, v3, v4]);
    expect(versionsOf(late)).toEqual(versionsOf(first));
    expect(fx.listeners()).toBe(before + 1);
    expect(await upstreamJoins(router)).toEqual({ opened: joinsBefore.opened + 1, joined: joinsBefore.joined + 1 });
    // The first one leaving does not end the other's stream.
    first.stop();
    const v5 = fx.publish({ productId: 'p-replay', body: 'five' });
    await vi.waitFor(() => expect(versionsOf(late).at(-1)).toBe(v5), { timeout: 2_000, interval: 10 });
    expect(fx.listeners()).toBe(before + 1);
    late.stop();
  });

  it('without the position, a late joiner gets only what arrives after it joined', async () => {
    const hal = await token('CUSTOMER', 'hal');
    const before = fx.listeners();
    const first = run(client(router, { authorization: `Bearer ${hal}` }).c, SMALL, { p: 'p-live' });
    await listening(before);
    const v1 = fx.publish({ productId: 'p-live', body: 'before the second screen' });
    await vi.waitFor(() => expect(versionsOf(first)).toEqual([v1]), { timeout: 2_000, interval: 10 });
    const joinsBefore = await upstreamJoins(router);
    const late = run(client(router, { authorization: `Bearer ${hal}` }).c, SMALL, { p: 'p-live' });
    await vi.waitFor(async () => expect((await upstreamJoins(router)).joined).toBe(joinsBefore.joined + 1), { timeout: 2_000, interval: 10 });
    const v2 = fx.publish({ productId: 'p-live', body: 'after' });
    for (const s of [first, late]) await vi.waitFor(() => expect(versionsOf(s).at(-1)).toBe(v2), { timeout: 2_000, interval: 10 });
    expect(versionsOf(first)).toEqual([v1, v2]);
    expect(versionsOf(late)).toEqual([v2]);
    expect(fx.listeners()).toBe(before + 1);
    first.stop();
    late.stop();
  });

  it('two customers on the same operation and variables never share: each gets only their own, resolved as them', async () => {
    const [ivy, jon] = await Promise.all([token('CUSTOMER', 'ivy'), token('CUSTOMER', 'jon')]);
    const before = fx.listeners();
    const ivys = [run(client(router, { authorization: `Bearer ${ivy}` }).c, REVIEWS, { p: 'p-two', since: 0 }), run(client(router, { authorization: `Bearer ${ivy}` }).c, REVIEWS, { p: 'p-two', since: 0 })];
    const jons = [run(client(router, { authorization: `Bearer ${jon}` }).c, REVIEWS, { p: 'p-two', since: 0 }), run(client(router, { authorization: `Bearer ${jon}` }).c, REVIEWS, { p: 'p-two', since: 0 })];
    await listening(before, 2);
    const forIvy = fx.publish({ productId: 'p-two', body: 'ivy', onlyFor: 'ivy' });
    const forJon = fx.publish({ productId: 'p-two', body: 'jon', onlyFor: 'jon' });
    for (const s of [...ivys, ...jons]) await vi.waitFor(() => expect(s.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    await new Promise((r) => setTimeout(r, 100));
    for (const s of ivys) expect(s.results.map((r) => r.data?.reviewAdded)).toMatchObject([{ version: forIvy, seenBy: 'ivy:CUSTOMER', product: { seenBy: 'ivy:CUSTOMER' } }]);
    for (const s of jons) expect(s.results.map((r) => r.data?.reviewAdded)).toMatchObject([{ version: forJon, seenBy: 'jon:CUSTOMER', product: { seenBy: 'jon:CUSTOMER' } }]);
    for (const s of [...ivys, ...jons]) s.stop();
  });

  it(`past ${REPLAY_LOG_LIMIT} delivered events a stream takes no new subscribers: the next one opens its own and still gets everything`, async () => {
    const kim = await token('CUSTOMER', 'kim');
    const before = fx.listeners();
    const first = run(client(router, { authorization: `Bearer ${kim}` }).c, SMALL, { p: 'p-long', since: 0 });
    await listening(before);
    const published = Array.from({ length: REPLAY_LOG_LIMIT + 5 }, () => fx.publish({ productId: 'p-long', body: 'x' }));
    await vi.waitFor(() => expect(versionsOf(first)).toHaveLength(published.length), { timeout: 5_000, interval: 10 });
    const late = run(client(router, { authorization: `Bearer ${kim}` }).c, SMALL, { p: 'p-long', since: 0 });
    await listening(before, 2);
    await vi.waitFor(() => expect(versionsOf(late)).toEqual(published), { timeout: 5_000, interval: 10 });
    expect(versionsOf(first)).toEqual(published);
    first.stop();
    late.stop();
  });

  it('a field the supergraph does not mark is never shared upstream', async () => {
    const lou = await token('CUSTOMER', 'lou');
    const before = fx.listeners();
    const UNMARKED = 'subscription U($p: ID, $since: Int) { reviewAddedUnmarked(productId: $p, since: $since) { version } }';
    const subs = [run(client(router, { authorization: `Bearer ${lou}` }).c, UNMARKED, { p: 'p-unmarked', since: 0 }), run(client(router, { authorization: `Bearer ${lou}` }).c, UNMARKED, { p: 'p-unmarked', since: 0 })];
    await listening(before, 2);
    const v = fx.publish({ productId: 'p-unmarked', body: 'x' });
    for (const s of subs) await vi.waitFor(() => expect(versionsOf(s)).toEqual([v]), { timeout: 2_000, interval: 10 });
    for (const s of subs) s.stop();
  });

  it('a screen that stops reading is closed 1013 alone; the other screen on the same shared stream gets every event, in order', async () => {
    const other = await startRouter(fx.config({ WS_MAX_BUFFERED_MESSAGES: '20' }));
    try {
      const nia = await token('CUSTOMER', 'nia');
      const before = fx.listeners();
      const closedBefore = await slowConsumersClosed(other);
      const slow = await rawSocket(other);
      slow.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${nia}` } }));
      await vi.waitFor(() => expect(slow.messages).toContainEqual({ type: 'connection_ack' }), { timeout: 2_000, interval: 10 });
      slow.ws.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: SMALL, variables: { p: 'p-slow-shared', since: 0 } } }));
      await listening(before);
      const joined = (await upstreamJoins(other)).joined;
      const fast = run(client(other, { authorization: `Bearer ${nia}` }).c, SMALL, { p: 'p-slow-shared', since: 0 });
      await vi.waitFor(async () => expect((await upstreamJoins(other)).joined).toBe(joined + 1), { timeout: 2_000, interval: 10 });
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const body = 'x'.repeat(64 * 1024);
      const published = Array.from({ length: 400 }, () => fx.publish({ productId: 'p-slow-shared', body }));
      await vi.waitFor(async () => expect(await slowConsumersClosed(other)).toBe(closedBefore + 1), { timeout: 20_000, interval: 20 });
      await vi.waitFor(() => expect(versionsOf(fast)).toHaveLength(published.length), { timeout: 20_000, interval: 20 });
      expect(versionsOf(fast)).toEqual(published);
      expect(fast.error).toBeUndefined();
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect((await slow.closed).code).toBe(1013);
      expect(fx.listeners()).toBe(before + 1);
      fast.stop();
    } finally {
      await other.stop();
    }
  });

  it('a subgraph dropping the shared stream ends every subscriber on it with SERVICE_UNAVAILABLE', async () => {
    const max = await token('CUSTOMER', 'max');
    const before = fx.listeners();
    const subs = [run(client(router, { authorization: `Bearer ${max}` }).c, SMALL, { p: 'p-drop', since: 0 }), run(client(router, { authorization: `Bearer ${max}` }).c, SMALL, { p: 'p-drop', since: 0 })];
    await listening(before);
    await vi.waitFor(async () => expect((await upstreamJoins(router)).joined).toBeGreaterThan(0), { timeout: 2_000, interval: 10 });
    await new Promise((r) => setTimeout(r, 50));
    fx.dropSockets();
    for (const s of subs) {
      await vi.waitFor(() => expect(s.error).toBeDefined(), { timeout: 2_000, interval: 10 });
      expect((s.error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    }
  });
});

describe('bad input', () => {
  it('an invalid token closes the socket with 4403 and says why', async () => {
    const expired = await token('CUSTOMER', 'x', { exp: Math.floor(Date.now() / 1000) - 60 });
    const raw = await rawSocket(router);
    raw.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${expired}` } }));
    expect(await raw.closed).toEqual({ code: 4403, reason: 'token expired' });

    const wrong = await rawSocket(router);
    wrong.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Basic abc' } }));
    expect((await wrong.closed).code).toBe(4403);
  });

  it('an unknown field is an error for that operation only; the socket and its other subscriptions carry on', async () => {
    const { c, closed } = client(router);
    const before = fx.listeners();
    const good = run(c, REVIEWS, { p: 'p6' });
    await listening(before);
    const bad = run(c, 'subscription { reviewAdded { nope } }');
    await vi.waitFor(() => expect(bad.error).toBeDefined(), { timeout: 2_000, interval: 10 });
    const errors = bad.error as Array<{ message: string; extensions?: { code?: string } }>;
    expect(errors[0]?.message).toMatch(/Cannot query field "nope"/);
    expect(errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const badVar = run(c, REVIEWS, { p: 'p6', since: 'not-a-number' });
    await vi.waitFor(() => expect(badVar.error).toBeDefined(), { timeout: 2_000, interval: 10 });
    expect((badVar.error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const another = run(c, REVIEWS, { p: 'p6b' });
    await listening(before, 2);
    fx.publish({ productId: 'p6', body: 'still here' });
    fx.publish({ productId: 'p6b', body: 'still here' });
    await vi.waitFor(() => expect(good.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    await vi.waitFor(() => expect(another.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    expect(closed).toEqual([]);
    good.stop();
    another.stop();
  });

  it("a subgraph's refusal reaches the client with its code; the socket stays open", async () => {
    const { c, closed } = client(router);
    const sub = run(c, REVIEWS, { p: 'missing' });
    await vi.waitFor(() => expect(sub.completed).toBe(true), { timeout: 2_000, interval: 10 });
    expect(sub.results[0]?.errors?.[0]).toMatchObject({
      message: 'product missing not found',
      extensions: { code: 'NOT_FOUND', serviceName: 'reviews' },
    });
    const q = run(c, '{ product(id: "p1") { name } }');
    await vi.waitFor(() => expect(q.completed).toBe(true), { timeout: 2_000, interval: 10 });
    expect(q.results[0]?.data).toEqual({ product: { name: 'Product p1' } });
    expect(closed).toEqual([]);
  });

  it('a malformed message closes that socket with 4400; another client is unaffected', async () => {
    const other = client(router);
    const before = fx.listeners();
    const sub = run(other.c, REVIEWS, { p: 'p7' });
    await listening(before);

    const raw = await rawSocket(router);
    raw.ws.send(JSON.stringify({ type: 'connection_init' }));
    await vi.waitFor(() => expect(raw.messages).toContainEqual({ type: 'connection_ack' }), { timeout: 2_000, interval: 10 });
    raw.ws.send('{not json');
    expect((await raw.closed).code).toBe(4400);

    const unknownType = await rawSocket(router);
    unknownType.ws.send(JSON.stringify({ type: 'connection_init' }));
    unknownType.ws.send(JSON.stringify({ type: 'explode' }));
    expect((await unknownType.closed).code).toBe(4400);

    const early = await rawSocket(router);
    early.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: REVIEWS } }));
    expect((await early.closed).code).toBe(4401);

    fx.publish({ productId: 'p7', body: 'unaffected' });
    await vi.waitFor(() => expect(sub.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    expect(other.closed).toEqual([]);
    sub.stop();
  });

  it('limits subscriptions per connection; a completed one frees its slot', async () => {
    const { c, closed } = client(router);
    const before = fx.listeners();
    const subs = [run(c, REVIEWS, { p: 'p8a' }), run(c, REVIEWS, { p: 'p8b' }), run(c, REVIEWS, { p: 'p8c' })];
    await listening(before, 3);
    const extra = run(c, REVIEWS, { p: 'p8e' });
    await vi.waitFor(() => expect(extra.error).toBeDefined(), { timeout: 2_000, interval: 10 });
    expect((extra.error as Array<{ message: string; extensions?: { code?: string } }>)[0]).toMatchObject({
      message: expect.stringMatching(/limit 3/),
      extensions: { code: 'BAD_USER_INPUT', limit: 'MAX_SUBSCRIPTIONS_PER_CONNECTION', max: 3 },
    });
    subs[0]!.stop();
    await listening(before, 2);
    const again = run(c, REVIEWS, { p: 'p8d' });
    await listening(before, 3);
    fx.publish({ productId: 'p8d', body: 'x' });
    await vi.waitFor(() => expect(again.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
    expect(closed).toEqual([]);
    for (const s of [...subs, again]) s.stop();
  });
});

describe('lifecycle', () => {
  it('counts open subscriptions; closing a client closes its upstream socket', async () => {
    const start = await gauge(router);
    const sockets = fx.openSockets();
    const { c } = client(router);
    const before = fx.listeners();
    run(c, REVIEWS, { p: 'g' });
    run(c, REVIEWS, { p: 'g2' });
    await listening(before, 2);
    expect(await gauge(router)).toBe(start + 2);
    expect(fx.openSockets()).toBe(sockets + 1);
    await c.dispose();
    await vi.waitFor(async () => expect(await gauge(router)).toBe(start), { timeout: 2_000, interval: 20 });
    await vi.waitFor(() => expect(fx.openSockets()).toBe(sockets), { timeout: 2_000, interval: 20 });
    expect(fx.listeners()).toBe(before);
  });

  it('on stop, clients see 1012 (Service Restart) and upstream sockets close', async () => {
    const other = await startRouter(fx.config());
    const sockets = fx.openSockets();
    const { c, closed } = client(other);
    const before = fx.listeners();
    const sub = run(c, REVIEWS, { p: 'stop' });
    await listening(before);
    expect(fx.openSockets()).toBe(sockets + 1);
    await other.stop();
    await vi.waitFor(() => expect(closed[0]?.code).toBe(1012), { timeout: 5_000, interval: 10 });
    expect(sub.error).toBeDefined();
    await vi.waitFor(() => expect(fx.openSockets()).toBe(sockets), { timeout: 2_000, interval: 20 });
    expect(fx.listeners()).toBe(before);
  });

  it('a subgraph that drops its socket ends the subscription with SERVICE_UNAVAILABLE; the client socket stays open', async () => {
    const raw = await rawSocket(router);
    raw.ws.send(JSON.stringify({ type: 'connection_init' }));
    await vi.waitFor(() => expect(raw.messages).toContainEqual({ type: 'connection_ack' }), { timeout: 2_000, interval: 10 });
    raw.ws.send(JSON.stringify({ id: 'd1', type: 'subscribe', payload: { query: REVIEWS, variables: { p: 'drop' } } }));
    await listening(0);
    fx.dropSockets();
    await vi.waitFor(() => expect(raw.messages.find((m) => m.id === 'd1' && m.type === 'error')).toBeDefined(), {
      timeout: 2_000,
      interval: 10,
    });
    const error = raw.messages.find((m) => m.id === 'd1' && m.type === 'error') as { payload: Array<{ extensions?: { code?: string } }> };
    expect(error.payload[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    // Re-subscribing on the same socket works (a new upstream socket is opened).
    raw.ws.send(JSON.stringify({ id: 'd2', type: 'subscribe', payload: { query: REVIEWS, variables: { p: 'drop' } } }));
    await listening(0);
    fx.publish({ productId: 'drop', body: 'back' });
    await vi.waitFor(() => expect(raw.messages.find((m) => m.id === 'd2' && m.type === 'next')).toBeDefined(), {
      timeout: 2_000,
      interval: 10,
    });
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    raw.ws.close();
    await raw.closed;
  });

  it('a client that stops reading is closed 1013 once WS_MAX_BUFFERED_MESSAGES results wait; it resumes with `since` and gets the rest once, in order', async () => {
    const other = await startRouter(fx.config({ WS_MAX_BUFFERED_MESSAGES: '20' }));
    try {
      const before = fx.listeners();
      const closedBefore = await slowConsumersClosed(other);
      const raw = await rawSocket(other);
      raw.ws.send(JSON.stringify({ type: 'connection_init' }));
      await vi.waitFor(() => expect(raw.messages).toContainEqual({ type: 'connection_ack' }), { timeout: 2_000, interval: 10 });
      raw.ws.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: SMALL, variables: { p: 'slow' } } }));
      await listening(before);
      // Stop reading: the kernel's buffers fill, then the router's sends wait, then its per-subscription buffer.
      const socket = (raw.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const body = 'x'.repeat(64 * 1024);
      const published = Array.from({ length: 400 }, () => fx.publish({ productId: 'slow', body }));
      await vi.waitFor(async () => expect(await slowConsumersClosed(other)).toBe(closedBefore + 1), { timeout: 20_000, interval: 20 });
      socket.resume();
      const closed = await raw.closed;
      expect(closed.code).toBe(1013);
      expect(closed.reason).toMatch(/resume with sinceVersion/);
      const got = raw.messages.filter((m) => m.type === 'next').map((m) => (m.payload as { data: { reviewAdded: { version: number } } }).data.reviewAdded.version);
      // What arrived is a prefix of what was published: in order, none twice, none skipped, not all.
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThan(published.length);
      expect(got).toEqual(published.slice(0, got.length));

      const resumed = client(other);
      const rest = run(resumed.c, SMALL, { p: 'slow', since: got.at(-1) });
      await vi.waitFor(() => expect(rest.results).toHaveLength(published.length - got.length), { timeout: 20_000, interval: 20 });
      expect(rest.results.map((r) => (r.data as { reviewAdded: { version: number } }).reviewAdded.version)).toEqual(published.slice(got.length));
      rest.stop();
    } finally {
      await other.stop();
    }
  });

  it('a flood of subscribe/complete on one socket is refused past WS_SUBSCRIBES_PER_SECOND with TRY_LATER; that socket stays open and others are unaffected', async () => {
    const other = await startRouter(fx.config({ WS_SUBSCRIBES_PER_SECOND: '5', WS_SUBSCRIBES_PER_SECOND_PER_CALLER: '1000' }));
    try {
      const calm = client(other);
      const before = fx.listeners();
      const calmSub = run(calm.c, REVIEWS, { p: 'p-calm' });
      await listening(before);

      const raw = await rawSocket(other);
      raw.ws.send(JSON.stringify({ type: 'connection_init' }));
      await vi.waitFor(() => expect(raw.messages).toContainEqual({ type: 'connection_ack' }), { timeout: 2_000, interval: 10 });
      // 30 subscribes at once (a refused one is answered; one completed while refused is dropped silently).
      for (let i = 0; i < 30; i++) {
        raw.ws.send(JSON.stringify({ id: `f${i}`, type: 'subscribe', payload: { query: SMALL, variables: { p: 'flood' } } }));
      }
      const refused = () => raw.messages.filter((m) => m.type === 'error' && (m.payload as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code === 'TRY_LATER');
      // 5 per second: at most 10 admitted even if the window turns over while they arrive.
      await vi.waitFor(() => expect(refused().length).toBeGreaterThanOrEqual(20), { timeout: 5_000, interval: 20 });
      for (let i = 0; i < 30; i++) raw.ws.send(JSON.stringify({ id: `f${i}`, type: 'complete' }));
      expect((refused()[0]?.payload as Array<{ extensions: { retryAfterSeconds: number } }>)[0]?.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(raw.ws.readyState).toBe(WebSocket.OPEN);
      // The calm client's subscription still delivers.
      fx.publish({ productId: 'p-calm', body: 'still here' });
      await vi.waitFor(() => expect(calmSub.results).toHaveLength(1), { timeout: 2_000, interval: 10 });
      calmSub.stop();
      raw.ws.close();
    } finally {
      await other.stop();
    }
  });

  it('the per-caller limit spans that caller\'s sockets; another caller is admitted meanwhile', async () => {
    const other = await startRouter(fx.config({ WS_SUBSCRIBES_PER_SECOND: '1000', WS_SUBSCRIBES_PER_SECOND_PER_CALLER: '5' }));
    try {
      const open = async (sub: string) => {
        const raw = await rawSocket(other);
        raw.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${await token('CUSTOMER', sub)}` } }));
        await vi.waitFor(() => expect(raw.messages).toContainEqual({ type: 'connection_ack' }), { timeout: 2_000, interval: 10 });
        return raw;
      };
      const codes = (raw: Awaited<ReturnType<typeof rawSocket>>) =>
        raw.messages.filter((m) => m.type === 'error').map((m) => (m.payload as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code);
      const [a1, a2, b] = await Promise.all([open('flooder'), open('flooder'), open('bystander')]);
      for (let i = 0; i < 15; i++) {
        for (const raw of [a1, a2]) raw.ws.send(JSON.stringify({ id: `a${i}`, type: 'subscribe', payload: { query: SMALL, variables: { p: 'flood' } } }));
      }
      await vi.waitFor(() => expect(codes(a1).length + codes(a2).length).toBeGreaterThanOrEqual(20), { timeout: 5_000, interval: 20 });
      expect([...codes(a1), ...codes(a2)].every((c) => c === 'TRY_LATER')).toBe(true);
      // The bystander's subscription is admitted and delivers (a replay of what was just published).
      const version = fx.publish({ productId: 'calm', body: 'for the bystander' });
      b.ws.send(JSON.stringify({ id: 'b1', type: 'subscribe', payload: { query: SMALL, variables: { p: 'calm', since: version - 1 } } }));
      await vi.waitFor(() => expect(b.messages.filter((m) => m.type === 'next')).toHaveLength(1), { timeout: 2_000, interval: 10 });
      expect(codes(b)).toEqual([]);
      for (const raw of [a1, a2, b]) raw.ws.close();
    } finally {
      await other.stop();
    }
  });

  it('keep-alive: pings every WS_KEEPALIVE_MS and drops a peer that does not answer', async () => {
    const other = await startRouter(fx.config({ WS_KEEPALIVE_MS: '100' }));
    try {
      const answering = new WebSocket(wsUrl(other), 'graphql-transport-ws');
      let pings = 0;
      answering.on('ping', () => pings++);
      const silent = new WebSocket(wsUrl(other), 'graphql-transport-ws', { autoPong: false });
      const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
      for (const ws of [answering, silent]) {
        ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
      }
      expect(await silentClosed).toBe(1006);
      expect(pings).toBeGreaterThanOrEqual(1);
      expect(answering.readyState).toBe(WebSocket.OPEN);
      answering.close();
    } finally {
      await other.stop();
    }
  });

  it('plans against the supergraph the gateway reloads (SUPERGRAPH_WATCH)', async () => {
    const path = fx.writeSupergraph('watched.graphql');
    const other = await startRouter(fx.config({ SUPERGRAPH_PATH: path, SUPERGRAPH_WATCH: 'true', SUBGRAPH_URLS: '' }));
    try {
      fx.writeSupergraph('watched.graphql', { withoutReviews: true });
      const { c } = client(other);
      await vi.waitFor(
        async () => {
          const sub = run(c, REVIEWS, { p: 'w' });
          await vi.waitFor(() => expect(sub.error ?? sub.completed).toBeTruthy(), { timeout: 1_000, interval: 10 });
          sub.stop();
          expect((sub.error as Array<{ message: string }> | undefined)?.[0]?.message).toMatch(/no "subscription" root type/i);
        },
        { timeout: 5_000, interval: 200 },
      );
    } finally {
      await other.stop();
    }
  });

  it('Sandbox subscribes on the same /graphql URL', async () => {
    const page = await (await fetch(router.url, { headers: { accept: 'text/html' } })).text();
    expect(page).toContain('initialSubscriptionEndpoint');
  });
});
