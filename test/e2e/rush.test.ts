/**
 * A rush of customers (issue 10), through the real router, with every
 * subgraph and worker a process of its own as `npm start` runs them, on the
 * settings `npm start` uses (no raised timeouts):
 *
 * - 200 concurrent reservations against stock 20, 20 customers: exactly 20
 *   CONFIRMED, every other answer INSUFFICIENT_STOCK or TRY_LATER, never
 *   SERVICE_UNAVAILABLE, every request answered over its keep-alive
 *   connection (none dropped), stock 0 once settled.
 * - 1,000 concurrent against stock 100: exactly 100 CONFIRMED, every request
 *   answered within 30 s (a client told TRY_LATER tries again after
 *   `retryAfterSeconds`, as a client should), stock conserved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { Agent, request } from 'undici';
import { settle } from '../support/settle.js';
import { SUBGRAPHS, WORKERS, day, startStack, type Stack } from '../support/stack.js';

let stack: Stack;
/** One keep-alive connection per request in flight, reused across the burst: a dropped one shows as a network error. */
const agent = new Agent({ connections: 1_000, pipelining: 1 });

beforeAll(async () => {
  stack = await startStack({
    tag: 'rush',
    processes: [...SUBGRAPHS, ...WORKERS],
    // npm start's default (the harness sweeps outboxes every 500 ms for its other tests).
    env: { all: { OUTBOX_SWEEP_MS: '5000' } },
  });
}, 120_000);
afterAll(async () => {
  await agent.close();
  await stack?.stop();
});

const RESERVE = 'mutation($i: CreateReservationInput!) { createReservation(input: $i) { id status } }';

interface Answer {
  code: string;
  id?: string;
  retryAfterSeconds?: number;
  ms: number;
}

/** One createReservation through the router over the shared keep-alive agent; a network failure is an answer too ("NETWORK: …"). */
async function reserve(token: string, itemId: string): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await request(stack.url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: RESERVE, variables: { i: { itemId, quantity: 1, startDate: day(10), endDate: day(13), paymentToken: 'tok_approve' } } }),
    });
    const body = (await res.body.json()) as {
      data?: { createReservation?: { id: string; status: string } } | null;
      errors?: Array<{ extensions?: { code?: string; retryAfterSeconds?: number } }>;
    };
    const r = body.data?.createReservation;
    if (r) return { code: r.status, id: r.id, ms: performance.now() - t0 };
    const ext = body.errors?.[0]?.extensions;
    return { code: ext?.code ?? `HTTP ${res.statusCode}`, ...(ext?.retryAfterSeconds ? { retryAfterSeconds: ext.retryAfterSeconds } : {}), ms: performance.now() - t0 };
  } catch (err) {
    return { code: `NETWORK: ${(err as Error).message}`, ms: performance.now() - t0 };
  }
}

async function setUp(stock: number, customers: number) {
  const admin = await stack.tokens.admin();
  const storeId = `rush-${Math.random().toString(36).slice(2, 8)}`;
  const store = await stack.gql(admin, 'mutation($i: CreateStoreInput!) { createStore(input: $i) { id } }', { i: { id: storeId, name: 'Rush store', city: 'Rush' } });
  expect(store.errors).toBeUndefined();
  const staff = await stack.tokens.staff(storeId);
  const item = await stack.gql<{ registerItem: { id: string } }>(staff, 'mutation($i: RegisterItemInput!) { registerItem(input: $i) { id } }', {
    i: { storeId, name: 'Limited edition camera', category: 'camera', dailyRate: 5000, stock },
  });
  const tokens = await Promise.all(Array.from({ length: customers }, (_, i) => stack.tokens.customer(`rush-${storeId}-${i}`)));
  return { itemId: item.data!.registerItem.id, tokens };
}

/** Stock through the API, and the holds on the item document (what stock was taken for). */
async function stockAndHolds(itemId: string) {
  const res = await stack.gql<{ item: { stock: number } }>(undefined, 'query($id: ID!) { item(id: $id) { stock } }', { id: itemId });
  const items = await stack.db('items');
  const doc = (await items.collection('items').findOne({ _id: new Types.ObjectId(itemId) } as never)) as { holds?: Record<string, { quantity: number }> } | null;
  const holds = Object.values(doc?.holds ?? {}).reduce((n, h) => n + h.quantity, 0);
  return { stock: res.data!.item.stock, holds };
}

const tally = (answers: Answer[]) => answers.reduce<Record<string, number>>((t, a) => ({ ...t, [a.code]: (t[a.code] ?? 0) + 1 }), {});

describe('a rush of customers', () => {
  it('200 concurrent reservations against stock 20: exactly 20 CONFIRMED, the rest INSUFFICIENT_STOCK or TRY_LATER, none unavailable or dropped, stock 0', { timeout: 120_000 }, async () => {
    const { itemId, tokens } = await setUp(20, 20);
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => reserve(tokens[i % tokens.length]!, itemId)));
    const wall = performance.now() - started;
    const counts = tally(answers);
    console.log(`[rush] 200 → stock 20 in ${wall.toFixed(0)} ms: ${JSON.stringify(counts)}`);
    expect(Object.keys(counts).filter((c) => !['CONFIRMED', 'INSUFFICIENT_STOCK', 'TRY_LATER'].includes(c))).toEqual([]);
    expect(counts.CONFIRMED).toBe(20);
    await settle(stack);
    expect(await stockAndHolds(itemId)).toEqual({ stock: 0, holds: 20 });
    // Every confirmed one became one store order (none lost, none doubled).
    const confirmed = answers.filter((a) => a.code === 'CONFIRMED').map((a) => a.id!);
    const stores = await stack.db('stores');
    const orders = await stores.collection('store_orders').find({ reservationId: { $in: confirmed } }).toArray();
    expect(orders.map((o) => o.reservationId).sort()).toEqual([...confirmed].sort());
  });

  it('1,000 concurrent against stock 100: exactly 100 CONFIRMED, every request answered within 30 s (TRY_LATER tried again after its hint), stock conserved', { timeout: 120_000 }, async () => {
    const { itemId, tokens } = await setUp(100, 100);
    const started = performance.now();
    let retries = 0;
    const finals = await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => {
        for (;;) {
          const a = await reserve(tokens[i % tokens.length]!, itemId);
          if (a.code !== 'TRY_LATER') return { ...a, at: performance.now() - started };
          retries += 1;
          await new Promise((r) => setTimeout(r, (a.retryAfterSeconds ?? 1) * 1000 * (0.5 + Math.random())));
        }
      }),
    );
    const counts = tally(finals);
    const last = Math.max(...finals.map((a) => a.at));
    console.log(`[rush] 1000 → stock 100: last answer at ${last.toFixed(0)} ms, ${retries} TRY_LATER tried again; ${JSON.stringify(counts)}`);
    expect(counts.CONFIRMED).toBe(100);
    expect(Object.keys(counts).filter((c) => !['CONFIRMED', 'INSUFFICIENT_STOCK'].includes(c))).toEqual([]);
    expect(last).toBeLessThan(30_000);
    await settle(stack);
    expect(await stockAndHolds(itemId)).toEqual({ stock: 0, holds: 100 });
  });
});
