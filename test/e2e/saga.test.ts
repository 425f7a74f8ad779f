/**
 * The reservation saga through the router, as a user would meet it: the four
 * real subgraphs and their workers behind the real router (test/support/stack.ts),
 * on real MongoDB-compatible and Redis servers. Each case asserts what a user
 * notices: statuses, stock, store orders, payments, error codes.
 *
 * Issue 3, "Done when" and "Bad input".
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '@rental/events';
import { day, eventually, startStack, type GqlResponse, type Stack } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { ORDERS, PREPARE, RETURN_RENTAL, START_RENTAL, ordersOf, type OrdersAnswer } from './operations.js';

const CREATE_STORE = 'mutation($input: CreateStoreInput!) { createStore(input: $input) { id name city } }';
const REGISTER = 'mutation($input: RegisterItemInput!) { registerItem(input: $input) { id name stock dailyRate } }';
const CREATE = `mutation($input: CreateReservationInput!) {
  createReservation(input: $input) { id status quantity startDate endDate totalPrice history { status at reason } }
}`;
const CANCEL = 'mutation($id: ID!, $reason: String) { cancelReservation(id: $id, reason: $reason) { id status } }';
const STOCK = 'query($id: ID!) { item(id: $id) { stock } }';
const RESERVATION = 'query($id: ID!) { reservation(id: $id) { id status history { status at reason } } }';

interface Order {
  id: string;
  reservationId: string;
  status: string;
}
interface Reservation {
  id: string;
  status: string;
  totalPrice?: number | null;
  history: Array<{ status: string; at: string; reason: string | null }>;
}

function ok<T>(res: GqlResponse<T>, what: string): T {
  if (res.errors?.length || !res.data) throw new Error(`${what}: ${JSON.stringify(res.errors ?? res)}`);
  return res.data;
}

function codeOf(res: GqlResponse<unknown>): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

/** Helpers bound to one stack: a store with staff, items, reservations. */
function domain(stack: Stack) {
  const d = {
    async store(name: string): Promise<{ storeId: string; staff: string }> {
      const admin = await stack.tokens.admin();
      const { createStore } = ok(await stack.gql<{ createStore: { id: string } }>(admin, CREATE_STORE, { input: { name, city: 'Testville' } }), 'createStore');
      return { storeId: createStore.id, staff: await stack.tokens.staff(createStore.id) };
    },
    async item(staff: string, storeId: string, stock: number, name = 'Sony A7 IV', dailyRate = 4500): Promise<string> {
      const input = { storeId, name, category: 'camera', dailyRate, stock };
      return ok(await stack.gql<{ registerItem: { id: string } }>(staff, REGISTER, { input }), 'registerItem').registerItem.id;
    },
    async stock(itemId: string): Promise<number> {
      return ok(await stack.gql<{ item: { stock: number } }>(undefined, STOCK, { id: itemId }), 'item').item.stock;
    },
    create(customer: string, itemId: string, overrides: Record<string, unknown> = {}) {
      const input = { itemId, quantity: 1, startDate: day(1), endDate: day(4), paymentToken: 'tok_approve', ...overrides };
      return stack.gql<{ createReservation: Reservation }>(customer, CREATE, { input });
    },
    async reservation(token: string, id: string): Promise<Reservation> {
      return ok(await stack.gql<{ reservation: Reservation }>(token, RESERVATION, { id }), 'reservation').reservation;
    },
    async orders(staff: string, storeId: string): Promise<Order[]> {
      return ordersOf(ok(await stack.gql<OrdersAnswer<Order>>(staff, ORDERS, { storeId }), 'storeOrders'));
    },
    /** Waits for the store order of `reservationId` (optionally in `status`). */
    orderOf(staff: string, storeId: string, reservationId: string, status?: string, timeoutMs = 15_000): Promise<Order> {
      return eventually(
        async () => (await d.orders(staff, storeId)).find((o) => o.reservationId === reservationId && (!status || o.status === status)),
        timeoutMs,
        `store order of ${reservationId}${status ? ` in ${status}` : ''}`,
      );
    },
    statusBecomes(token: string, id: string, status: string, timeoutMs = 15_000): Promise<Reservation> {
      return eventually(
        async () => {
          const r = await d.reservation(token, id);
          return r.status === status ? r : undefined;
        },
        timeoutMs,
        `reservation ${id} ${status}`,
      );
    },
  };
  return d;
}

describe('the reservation saga through the router', () => {
  let stack: Stack;
  let d: ReturnType<typeof domain>;
  let customer: string;

  beforeAll(async () => {
    stack = await startStack({ tag: 'saga' });
    d = domain(stack);
    customer = await stack.tokens.customer('carol');
  });
  afterAll(() => stack?.stop());

  it('whole lifecycle: reserve, store order, prepare, hand over, return; stock down and back; full history; one federated query', async () => {
    const { storeId, staff } = await d.store('Lifecycle store');
    const itemId = await d.item(staff, storeId, 3, 'Sony A7 IV', 4500);

    const created = await d.create(customer, itemId, { quantity: 1, startDate: day(2), endDate: day(5) });
    const reservation = ok(created, 'createReservation').createReservation;
    expect(reservation).toMatchObject({ status: 'CONFIRMED', quantity: 1, totalPrice: 3 * 4500 });
    expect(await d.stock(itemId)).toBe(2);

    const order = await d.orderOf(staff, storeId, reservation.id, 'PENDING');
    expect(ok(await stack.gql(staff, PREPARE, { id: order.id }), 'prepareOrder')).toEqual({ prepareOrder: { id: order.id, status: 'READY' } });
    await d.statusBecomes(customer, reservation.id, 'READY_FOR_PICKUP');

    // The rentals worker learns readiness from StoreOrderPrepared: hand-over may need a moment.
    const rental = await eventually(
      async () => {
        const res = await stack.gql<{ startRental: { id: string; status: string } }>(staff, START_RENTAL, { id: reservation.id });
        return res.data?.startRental;
      },
      15_000,
      'startRental',
    );
    expect(rental.status).toBe('ACTIVE');
    await d.statusBecomes(customer, reservation.id, 'RENTED');
    expect(await d.stock(itemId)).toBe(2);

    expect(ok(await stack.gql(staff, RETURN_RENTAL, { id: rental.id }), 'returnRental')).toEqual({ returnRental: { id: rental.id, status: 'RETURNED' } });
    const final = await d.statusBecomes(customer, reservation.id, 'RETURNED');
    await eventually(async () => (await d.stock(itemId)) === 3, 15_000, 'stock back to 3');

    expect(final.history.map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED', 'READY_FOR_PICKUP', 'RENTED', 'RETURNED']);
    const times = final.history.map((h) => Date.parse(h.at));
    for (const t of times) expect(Number.isNaN(t)).toBe(false);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const full = await stack.gql(
      customer,
      `query($id: ID!) { reservation(id: $id) {
        id status quantity totalPrice
        item { id name store { id name } }
        storeOrder { id status }
        rental { id status payment { status amount } }
      } }`,
      { id: reservation.id },
    );
    expect(full.errors).toBeUndefined();
    expect(full.data).toEqual({
      reservation: {
        id: reservation.id,
        status: 'RETURNED',
        quantity: 1,
        totalPrice: 13_500,
        item: { id: itemId, name: 'Sony A7 IV', store: { id: storeId, name: 'Lifecycle store' } },
        storeOrder: { id: order.id, status: 'HANDED_OVER' },
        rental: { id: rental.id, status: 'RETURNED', payment: { status: 'PAID', amount: 13_500 } },
      },
    });
  });

  it('declined payment: PAYMENT_DECLINED, the reservation is kept as PAYMENT_FAILED, the stock is back', async () => {
    const { storeId, staff } = await d.store('Decline store');
    const itemId = await d.item(staff, storeId, 2);
    const res = await d.create(customer, itemId, { paymentToken: 'tok_decline' });
    expect(res.data ?? null).toBeNull();
    expect(codeOf(res)).toBe('PAYMENT_DECLINED');
    const reservationId = res.errors?.[0]?.extensions?.reservationId as string;
    expect(reservationId).toBeTruthy();

    const kept = await d.reservation(customer, reservationId);
    expect(kept.status).toBe('PAYMENT_FAILED');
    expect(kept.history.map((h) => h.status)).toEqual(['PENDING', 'PAYMENT_FAILED']);
    expect(await d.stock(itemId)).toBe(2);
    const payment = await stack.gql<{ reservation: { rental: { payment: { status: string } } | null } }>(
      customer,
      'query($id: ID!) { reservation(id: $id) { rental { status payment { status } } } }',
      { id: reservationId },
    );
    expect(payment.errors).toBeUndefined();
    expect(payment.data?.reservation.rental?.payment.status ?? 'DECLINED').toBe('DECLINED');
    // Nothing for the store to prepare.
    await new Promise((r) => setTimeout(r, 500));
    expect(await d.orders(staff, storeId)).toEqual([]);
  });

  it('cancel before hand-over: CANCELLED, stock back, payment REFUNDED, store order CANCELLED', async () => {
    const { storeId, staff } = await d.store('Cancel store');
    const itemId = await d.item(staff, storeId, 2);
    const reservation = ok(await d.create(customer, itemId), 'create').createReservation;
    expect(await d.stock(itemId)).toBe(1);
    await d.orderOf(staff, storeId, reservation.id, 'PENDING');

    const cancelled = await stack.gql(customer, CANCEL, { id: reservation.id, reason: 'plans changed' });
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data).toEqual({ cancelReservation: { id: reservation.id, status: 'CANCELLED' } });
    expect(await d.stock(itemId)).toBe(2);

    await d.orderOf(staff, storeId, reservation.id, 'CANCELLED');
    const view = await stack.gql<{ reservation: { status: string; storeOrder: { status: string }; rental: { status: string; payment: { status: string; amount: number } } } }>(
      customer,
      'query($id: ID!) { reservation(id: $id) { status storeOrder { status } rental { status payment { status amount } } } }',
      { id: reservation.id },
    );
    expect(view.errors).toBeUndefined();
    expect(view.data?.reservation).toMatchObject({
      status: 'CANCELLED',
      storeOrder: { status: 'CANCELLED' },
      rental: { status: 'CANCELLED', payment: { status: 'REFUNDED', amount: reservation.totalPrice } },
    });
    const final = await d.reservation(customer, reservation.id);
    expect(final.history.map((h) => h.status)).toEqual(['PENDING', 'CONFIRMED', 'CANCELLED']);
    expect(final.history.at(-1)?.reason).toContain('plans changed');
  });

  it("stores' worker stopped: reservations still accepted; started again, every waiting event is handled", { timeout: 60_000 }, async () => {
    const { storeId, staff } = await d.store('Worker-down store');
    const itemId = await d.item(staff, storeId, 10);
    await stack.workers['stores-worker'].stop();
    let ids: string[];
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => d.create(customer, itemId)));
      ids = results.map((r) => ok(r, 'create while the stores worker is down').createReservation.id);
      for (const r of results) expect(r.data?.createReservation.status).toBe('CONFIRMED');
      expect(await d.stock(itemId)).toBe(5);
      // The events wait in the stores queue; no store order yet.
      const queue = stack.bus().queue('stores');
      await eventually(async () => (await queue.getWaitingCount()) >= 5, 10_000, '5 events waiting in stores-events');
      expect(await d.orders(staff, storeId)).toEqual([]);
    } finally {
      await stack.workers['stores-worker'].start();
    }
    const orders = await eventually(
      async () => {
        const found = await d.orders(staff, storeId);
        return found.length >= 5 ? found : undefined;
      },
      30_000,
      'store orders for the 5 reservations',
    );
    expect(orders.map((o) => o.reservationId).sort()).toEqual([...ids].sort());
    expect(orders.every((o) => o.status === 'PENDING')).toBe(true);
  });

  it("a store's orders page through the router: newest first, `first` at a time, totalCount, status filter; a bad `first` is BAD_USER_INPUT", async () => {
    const { storeId, staff } = await d.store('Paging store');
    const itemId = await d.item(staff, storeId, 5);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(ok(await d.create(customer, itemId), 'create').createReservation.id);
    const all = await eventually(async () => {
      const list = await d.orders(staff, storeId);
      return list.length === ids.length ? list : undefined;
    }, 30_000, 'store orders for the 5 reservations');

    const PAGE = `query($s: ID!, $st: [StoreOrderStatus!], $first: Int, $after: String) {
      storeOrders(storeId: $s, status: $st, first: $first, after: $after) {
        totalCount edges { cursor node { id reservationId } } pageInfo { hasNextPage endCursor }
      }
    }`;
    type Page = { storeOrders: { totalCount: number; edges: Array<{ cursor: string; node: Order }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    async function walk(status: string[] | null) {
      const seen: string[] = [];
      const totals: number[] = [];
      let after: string | null = null;
      for (;;) {
        const page: Page = ok(await stack.gql<Page>(staff, PAGE, { s: storeId, st: status, first: 2, after }), 'storeOrders page');
        totals.push(page.storeOrders.totalCount);
        seen.push(...page.storeOrders.edges.map((e) => e.node.id));
        if (!page.storeOrders.pageInfo.hasNextPage) return { seen, totals };
        after = page.storeOrders.pageInfo.endCursor;
      }
    }
    const walked = await walk(null);
    // One page of 100 and pages of 2 list the same orders in the same order.
    expect(walked).toEqual({ seen: all.map((o) => o.id), totals: [5, 5, 5] });
    expect(new Set(walked.seen).size).toBe(5);

    ok(await stack.gql(staff, PREPARE, { id: all[1]!.id }), 'prepare');
    expect(await walk(['READY'])).toEqual({ seen: [all[1]!.id], totals: [1] });
    expect(await walk(['PENDING'])).toEqual({ seen: all.filter((_, i) => i !== 1).map((o) => o.id), totals: [4, 4] });

    for (const first of [0, 101]) {
      const res = await stack.gql(staff, PAGE, { s: storeId, first });
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    }
    expect(codeOf(await stack.gql(await stack.tokens.staff('some-other-store'), PAGE, { s: storeId, first: 2 }))).toBe('FORBIDDEN');
  });

  it('the same event delivered three times has the effect of one', async () => {
    const { storeId, staff } = await d.store('Redelivery store');
    const itemId = await d.item(staff, storeId, 5, 'MacBook Pro 14', 6000);
    const reservationId = randomUUID();
    const event = createEvent(
      'ReservationConfirmed',
      {
        reservationId,
        customerId: 'carol',
        itemId,
        itemName: 'MacBook Pro 14',
        storeId,
        quantity: 1,
        startDate: day(1),
        endDate: day(3),
        totalPrice: 12_000,
      },
      { correlationId: reservationId },
    );
    const queue = stack.bus().queue('stores');
    const jobIds = ['a', 'b', 'c'].map((s) => `${event.eventId}-delivery-${s}`);
    for (const jobId of jobIds) await queue.add(event.type, event, { jobId });
    await eventually(
      async () => (await Promise.all(jobIds.map(async (id) => (await queue.getJob(id))?.isCompleted()))).every(Boolean),
      15_000,
      'three deliveries handled',
    );
    const orders = (await d.orders(staff, storeId)).filter((o) => o.reservationId === reservationId);
    expect(orders).toHaveLength(1);
    expect(orders[0]!.status).toBe('PENDING');
  });

  describe('bad input: a stable code, and nothing changes', () => {
    let storeId: string;
    let staff: string;
    let itemId: string;

    beforeAll(async () => {
      ({ storeId, staff } = await d.store('Bad input store'));
      itemId = await d.item(staff, storeId, 3);
    });

    async function snapshot() {
      const reservations = await (await stack.db('reservations')).collection('reservations').countDocuments({ itemId });
      const all = await (await stack.db('reservations')).collection('reservations').countDocuments({});
      return { stock: await d.stock(itemId), orders: (await d.orders(staff, storeId)).length, reservations, all };
    }

    it.each([
      ['quantity 0', { quantity: 0 }, 'BAD_USER_INPUT', 'quantity'],
      ['a start date in the past', { startDate: day(-1), endDate: day(2) }, 'BAD_USER_INPUT', 'startDate'],
      ['an end date equal to the start', { startDate: day(3), endDate: day(3) }, 'BAD_USER_INPUT', 'endDate'],
      ['an end date before the start', { startDate: day(5), endDate: day(3) }, 'BAD_USER_INPUT', 'endDate'],
      ['a range over 90 days', { startDate: day(1), endDate: day(92) }, 'BAD_USER_INPUT', 'endDate'],
    ])('createReservation with %s → %s, nothing written', async (_name, overrides, code, field) => {
      const before = await snapshot();
      const res = await d.create(customer, itemId, overrides);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions).toMatchObject({ code, field });
      expect(await snapshot()).toEqual(before);
    });

    it('createReservation of an unknown item → NOT_FOUND, nothing written', async () => {
      const before = await snapshot();
      for (const id of ['0123456789abcdef01234567', 'no-such-item']) {
        const res = await d.create(customer, id);
        expect(res.data ?? null).toBeNull();
        expect(codeOf(res)).toBe('NOT_FOUND');
      }
      expect(await snapshot()).toEqual(before);
    });

    it('a quantity above the stock → INSUFFICIENT_STOCK; the stock is untouched', async () => {
      const before = await snapshot();
      const res = await d.create(customer, itemId, { quantity: 4 });
      expect(res.data ?? null).toBeNull();
      expect(codeOf(res)).toBe('INSUFFICIENT_STOCK');
      const after = await snapshot();
      expect(after.stock).toBe(before.stock);
      expect(after.orders).toBe(before.orders);
    });

    it("cancelling someone else's reservation → FORBIDDEN; it stays CONFIRMED", async () => {
      const r = ok(await d.create(customer, itemId), 'create').createReservation;
      await d.orderOf(staff, storeId, r.id, 'PENDING');
      const before = await snapshot();
      const res = await stack.gql(await stack.tokens.customer('mallory'), CANCEL, { id: r.id });
      expect(res.data ?? null).toBeNull();
      expect(codeOf(res)).toBe('FORBIDDEN');
      expect((await d.reservation(customer, r.id)).status).toBe('CONFIRMED');
      expect(await snapshot()).toEqual(before);
      // Staff of another store may not either.
      const other = await stack.gql(await stack.tokens.staff('some-other-store'), CANCEL, { id: r.id });
      expect(codeOf(other)).toBe('FORBIDDEN');
      // Clean up: the owner cancels.
      ok(await stack.gql(customer, CANCEL, { id: r.id }), 'owner cancel');
    });

    it('cancelling a rented or a returned reservation → INVALID_STATE; nothing changes; preparing an order twice → INVALID_STATE', async () => {
      const r = ok(await d.create(customer, itemId), 'create').createReservation;
      const order = await d.orderOf(staff, storeId, r.id, 'PENDING');
      ok(await stack.gql(staff, PREPARE, { id: order.id }), 'prepare');

      let before = await snapshot();
      const twice = await stack.gql(staff, PREPARE, { id: order.id });
      expect(twice.data ?? null).toBeNull();
      expect(codeOf(twice)).toBe('INVALID_STATE');
      expect((await d.orderOf(staff, storeId, r.id)).status).toBe('READY');
      expect(await snapshot()).toEqual(before);

      await d.statusBecomes(customer, r.id, 'READY_FOR_PICKUP');
      const rental = await eventually(async () => (await stack.gql<{ startRental: { id: string } }>(staff, START_RENTAL, { id: r.id })).data?.startRental, 15_000, 'startRental');
      await d.statusBecomes(customer, r.id, 'RENTED');

      before = await snapshot();
      for (const tok of [customer, staff]) {
        const res = await stack.gql(tok, CANCEL, { id: r.id });
        expect(res.data ?? null).toBeNull();
        expect(codeOf(res)).toBe('INVALID_STATE');
      }
      expect((await d.reservation(customer, r.id)).status).toBe('RENTED');
      expect(await snapshot()).toEqual(before);

      ok(await stack.gql(staff, RETURN_RENTAL, { id: rental.id }), 'return');
      await d.statusBecomes(customer, r.id, 'RETURNED');
      await eventually(async () => (await d.stock(itemId)) === before.stock + 1, 15_000, 'stock back after return');
      before = await snapshot();
      const res = await stack.gql(customer, CANCEL, { id: r.id });
      expect(codeOf(res)).toBe('INVALID_STATE');
      expect((await d.reservation(customer, r.id)).status).toBe('RETURNED');
      expect(await snapshot()).toEqual(before);
    });
  });
});

// The rush through the router (200 against stock 20, 1,000 against 100, on npm start's settings) is test/e2e/rush.test.ts.

describe('items stopped: the circuit breaker', () => {
  let stack: Stack;
  let d: ReturnType<typeof domain>;

  beforeAll(async () => {
    stack = await startStack({
      tag: 'breaker',
      workers: [],
      env: { reservations: { BREAKER_RESET_MS: '1000', ITEMS_TIMEOUT_MS: '500', CALL_RETRIES: '1', CALL_BACKOFF_MS: '20' } },
    });
    d = domain(stack);
  });
  afterAll(() => stack?.stop());

  it('answers SERVICE_UNAVAILABLE within 100 ms once the breaker is open; items back → reservations succeed without restarting anything', { timeout: 60_000 }, async () => {
    const customer = await stack.tokens.customer('carol');
    const { storeId, staff } = await d.store('Breaker store');
    const itemId = await d.item(staff, storeId, 10);
    const FAST = `mutation($input: CreateReservationInput!) { createReservation(input: $input) { id status } }`;
    const create = () => stack.gql<{ createReservation: { status: string } }>(customer, FAST, { input: { itemId, quantity: 1, startDate: day(1), endDate: day(2), paymentToken: 'tok_approve' } });
    expect((await create()).data?.createReservation.status).toBe('CONFIRMED');

    await stack.subgraphs.items.stop();
    // Failures fill the breaker's window until it opens.
    const timings: number[] = [];
    await eventually(
      async () => {
        const t0 = performance.now();
        const res = await create();
        const ms = performance.now() - t0;
        expect(codeOf(res)).toBe('SERVICE_UNAVAILABLE');
        timings.push(ms);
        return ms < 100 && timings.length >= 3;
      },
      20_000,
      'a fast SERVICE_UNAVAILABLE',
      0,
    );
    // Open: every call is refused at once.
    const open: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const res = await create();
      open.push(performance.now() - t0);
      expect(res.data ?? null).toBeNull();
      expect(codeOf(res)).toBe('SERVICE_UNAVAILABLE');
    }
    console.log(`[saga e2e] items down: first answers ${timings.map((t) => t.toFixed(0)).join(', ')} ms; breaker open: ${open.map((t) => t.toFixed(1)).join(', ')} ms`);
    for (const ms of open) expect(ms).toBeLessThan(100);

    await stack.subgraphs.items.start();
    const t0 = performance.now();
    await eventually(async () => (await create()).data?.createReservation.status === 'CONFIRMED', 20_000, 'a reservation succeeds again', 200);
    console.log(`[saga e2e] items back: reservations succeed again after ${(performance.now() - t0).toFixed(0)} ms`);
    // Nothing was held by the refused ones: 10 - 1 before - 1 after.
    expect(await d.stock(itemId)).toBe(8);
  });
});

describe('a process killed after the state change and before the publish', () => {
  let stack: Stack;
  let proxy: TcpProxy;
  let d: ReturnType<typeof domain>;

  beforeAll(async () => {
    const redis = new URL(process.env.REDIS_URL!);
    proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
    stack = await startStack({
      tag: 'crash',
      // The reservations API as a real process, reaching Redis through a proxy the test can cut;
      // no periodic outbox sweep, so only the start-up sweep can publish what a dead process left.
      processes: ['reservations'],
      processRedisUrl: `redis://${proxy.address}`,
      env: { reservations: { OUTBOX_SWEEP_MS: '600000' } },
    });
    d = domain(stack);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await proxy?.stop();
  });

  it('the event waits in the outbox of the killed process and is delivered after the restart', { timeout: 90_000 }, async () => {
    const customer = await stack.tokens.customer('carol');
    const { storeId, staff } = await d.store('Crash store');
    const itemId = await d.item(staff, storeId, 3);
    const reservations = (await stack.db('reservations')).collection<{ _id: string; outboxCount: number; outbox: Record<string, { type: string }> }>('reservations');

    // Redis unreachable for the process: the state change is written with its event, the publish cannot happen.
    proxy.cut();
    const res = await d.create(customer, itemId);
    const id = ok(res, 'create').createReservation.id;
    expect(res.data?.createReservation.status).toBe('CONFIRMED');
    const doc = await reservations.findOne({ _id: id });
    expect(doc?.outboxCount).toBe(1);
    expect(Object.values(doc?.outbox ?? {}).map((e) => e.type)).toEqual(['ReservationConfirmed']);

    // Killed before it could publish.
    await stack.subgraphs.reservations.kill('SIGKILL');
    proxy.restore();
    expect((await reservations.findOne({ _id: id }))?.outboxCount).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await d.orders(staff, storeId)).toEqual([]);

    // Restarted: the relay publishes at start-up; the store order appears and the outbox empties.
    await stack.subgraphs.reservations.start();
    await d.orderOf(staff, storeId, id, 'PENDING', 30_000);
    await eventually(async () => (await reservations.findOne({ _id: id }))?.outboxCount === 0, 15_000, 'outbox empty');
    expect((await reservations.findOne({ _id: id }))?.outbox ?? {}).toEqual({});
    expect((await d.reservation(customer, id)).status).toBe('CONFIRMED');
  });
});
