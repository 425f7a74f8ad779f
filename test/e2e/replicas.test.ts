/**
 * Two router replicas serving subscriptions at once, one of them restarted
 * mid-run (issue 12): 2,000 graphql-ws subscribers, half on each router,
 * follow 20 reservations of 20 customers. Router A stops between two
 * changes; its subscribers are closed 1012 and reconnect to router B with
 * `sinceVersion` = the last version they saw, as a client behind a load
 * balancer would. Every subscriber must receive every change of its
 * reservation exactly once, in order.
 *
 * The real router (twice), the four real subgraphs and their workers, real
 * FerretDB/MongoDB and Redis (test/support/stack.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, type Feed, type WsClient } from '../support/graphql-ws.js';
import { day, eventually, startStack, type GqlResponse, type RouterHandle, type Stack } from '../support/stack.js';
import { CREATE, CREATE_STORE, ORDERS, PREPARE, REGISTER, RETURN_RENTAL, START_RENTAL, ordersOf, type OrdersAnswer } from './operations.js';

const RESERVATIONS = 20;
const PER_RESERVATION = 100;

const MY = 'query { myReservations(first: 10) { edges { node { id version storeOrderStatus } } } }';
const BY_ID = `subscription($id: ID, $since: Int) {
  reservationStatus(reservationId: $id, sinceVersion: $since) { version reservation { id status item { name } storeOrder { status } } }
}`;

interface Update {
  reservationStatus: { version: number; reservation: { id: string; status: string } };
}

function ok<T>(res: GqlResponse<T>, what: string): T {
  if (res.errors?.length || !res.data) throw new Error(`${what}: ${JSON.stringify(res.errors ?? res)}`);
  return res.data;
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
async function inPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/** One subscriber: its current socket, and its subscriptions in order (one per socket it had). */
interface Subscriber {
  token: string;
  reservationId: string;
  /** The version its reservation's view had when the test began. */
  start: number;
  router: 'A' | 'B';
  ws: WsClient;
  feeds: Array<Feed<Update>>;
}

/** Every version a subscriber received, in order, across its sockets. */
const versionsOf = (s: Subscriber) => s.feeds.flatMap((f) => f.received.map((m) => m.data?.reservationStatus.version ?? -1));

describe('two routers, 2,000 subscribers, one router restarted mid-run', () => {
  let stack: Stack;
  let b: RouterHandle;
  let staff: string;
  let storeId: string;
  const subscribers: Subscriber[] = [];
  const reservations: Array<{ id: string; orderId: string; token: string; version: number; rentalId?: string }> = [];

  beforeAll(async () => {
    // Each customer opens 100 subscriptions at once: allow that per caller.
    stack = await startStack({ tag: 'replicas', env: { router: { WS_SUBSCRIBES_PER_SECOND_PER_CALLER: '100000' } } });
    b = await stack.addRouter();
    const admin = await stack.tokens.admin();
    storeId = ok(await stack.gql<{ createStore: { id: string } }>(admin, CREATE_STORE, { input: { name: 'Replica store', city: 'Testville' } }), 'createStore').createStore.id;
    staff = await stack.tokens.staff(storeId);
    const item = { storeId, name: `Sony FX3 ${randomBytes(3).toString('hex')}`, category: 'camera', dailyRate: 5000, stock: RESERVATIONS };
    const itemId = ok(await stack.gql<{ registerItem: { id: string } }>(staff, REGISTER, { input: item }), 'registerItem').registerItem.id;
    for (let i = 0; i < RESERVATIONS; i++) {
      const token = await stack.tokens.customer(`replica-${i}-${randomBytes(3).toString('hex')}`);
      const input = { itemId, quantity: 1, startDate: day(1), endDate: day(3), paymentToken: 'tok_approve' };
      const { createReservation } = ok(await stack.gql<{ createReservation: { id: string; status: string } }>(token, CREATE, { input }), 'createReservation');
      expect(createReservation.status).toBe('CONFIRMED');
      reservations.push({ id: createReservation.id, orderId: '', token, version: 0 });
    }
    // Each with its store order, and the view showing it (so the versions to come are known).
    const orders = await eventually(async () => {
      const list = ordersOf(ok(await stack.gql<OrdersAnswer<{ id: string; reservationId: string }>>(staff, ORDERS, { storeId }), 'storeOrders'));
      return list.length >= RESERVATIONS ? list : undefined;
    }, 30_000, 'store orders');
    for (const r of reservations) {
      r.orderId = orders.find((o) => o.reservationId === r.id)?.id ?? '';
      r.version = await eventually(async () => {
        const node = ok(await stack.gql<{ myReservations: { edges: Array<{ node: { id: string; version: number; storeOrderStatus: string | null } }> } }>(r.token, MY), 'my')
          .myReservations.edges.map((e) => e.node)
          .find((n) => n.id === r.id);
        return node?.storeOrderStatus === 'PENDING' ? node.version : undefined;
      }, 30_000, `view of ${r.id}`);
    }
  }, 180_000);

  afterAll(async () => {
    await inPool(subscribers, 200, (s) => s.ws.dispose().catch(() => undefined));
    await stack?.stop();
  }, 120_000);

  /** Every subscriber has received its reservation's `start + changes`. */
  const allHave = (changes: number) =>
    eventually(async () => subscribers.every((s) => Math.max(0, ...versionsOf(s)) >= s.start + changes), 60_000, `every subscriber at +${changes}`, 100);
  const subscribe = (s: Subscriber, since: number) => s.feeds.push(s.ws.subscribe<Update>(BY_ID, { id: s.reservationId, since }));

  it('every change reaches every subscriber exactly once, in order, across the restart', async () => {
    const a = stack.routerHandle;
    const routers = { A: a.current.url, B: b.current.url };
    // 1. Subscribe: half on each router, from the version each reservation's view has (the latest change is replayed first).
    const plan = reservations.flatMap((r) => Array.from({ length: PER_RESERVATION }, (_, i) => ({ r, router: i % 2 === 0 ? ('A' as const) : ('B' as const) })));
    const opened = await inPool(plan, 100, async ({ r, router }) => {
      const ws = await connectWs(routers[router], r.token, { connectTimeoutMs: 30_000 });
      const s: Subscriber = { token: r.token, reservationId: r.id, start: r.version, router, ws, feeds: [] };
      subscribe(s, r.version - 1);
      return s;
    });
    subscribers.push(...opened);
    await allHave(0);

    // 2. First change, through router A.
    for (const r of reservations) ok(await stack.gql(staff, PREPARE, { id: r.orderId }), 'prepareOrder');
    await allHave(1);

    // 3. Router A stops: its sockets close 1012. The second change happens while they are away (through router B).
    await a.stop();
    const onA = subscribers.filter((s) => s.router === 'A');
    for (const s of onA) expect((await s.ws.closed).code).toBe(1012);
    for (const r of reservations) {
      const { startRental } = ok(await stack.gql<{ startRental: { id: string } }>(staff, START_RENTAL, { id: r.id }, b.current.url), 'startRental');
      r.rentalId = startRental.id;
    }

    // 4. A's subscribers reconnect to B with sinceVersion = the last version they saw.
    await inPool(onA, 100, async (s) => {
      s.ws = await connectWs(routers.B, s.token, { connectTimeoutMs: 30_000 });
      s.router = 'B';
      subscribe(s, Math.max(...versionsOf(s)));
    });
    await allHave(2);

    // 5. Router A is back; the third change goes through it, and everyone (now on B) gets it.
    await a.start();
    for (const r of reservations) ok(await stack.gql(staff, RETURN_RENTAL, { id: r.rentalId }, a.current.url), 'returnRental');
    await allHave(3);
    await new Promise((r) => setTimeout(r, 500));

    // Exactly once, in order, nothing skipped: the replayed current version, then the three changes.
    const wrong = subscribers.filter((s) => JSON.stringify(versionsOf(s)) !== JSON.stringify([s.start, s.start + 1, s.start + 2, s.start + 3]));
    expect(wrong.map((s) => ({ reservation: s.reservationId, versions: versionsOf(s) })).slice(0, 5)).toEqual([]);
    expect(subscribers).toHaveLength(RESERVATIONS * PER_RESERVATION);
  }, 300_000);
});
