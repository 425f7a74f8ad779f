/**
 * The stores API over real HTTP: createStore and its access rules and input
 * checks, the public store queries, `Item.store` and `Reservation.storeOrder`
 * entity resolution, and `storeOrders`: its pages, status filter, bad page
 * input and access.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ANON,
  confirmedEvent,
  customer,
  staff,
  startTestEnv,
  until,
  type StoresTestEnv,
} from './testing.js';
import { StoreOrdersData } from './data/index.js';

let env: StoresTestEnv;

beforeAll(async () => {
  env = await startTestEnv(true);
});

afterAll(async () => {
  await env?.close();
});

const CREATE = /* GraphQL */ `
  mutation ($input: CreateStoreInput!) {
    createStore(input: $input) { id name city address }
  }
`;

describe('createStore', () => {
  it('ADMIN creates a store with a readable id, and anyone reads it', async () => {
    const res = await env.gql(CREATE, { input: { id: 'S1', name: ' Berlin Mitte ', city: 'Berlin', address: 'Unter den Linden 1' } });
    expect(res.errors).toBeUndefined();
    expect(res.data?.createStore).toEqual({ id: 'S1', name: 'Berlin Mitte', city: 'Berlin', address: 'Unter den Linden 1' });

    const read = await env.gql<{ store: unknown; stores: { id: string }[] }>('{ store(id: "S1") { id name city } stores { id } }', {}, ANON);
    expect(read.errors).toBeUndefined();
    expect(read.data?.store).toEqual({ id: 'S1', name: 'Berlin Mitte', city: 'Berlin' });
    expect(read.data?.stores.map((s) => s.id)).toContain('S1');
  });

  it('generates an id when none is given; stores are listed by name', async () => {
    const res = await env.gql<{ createStore: { id: string; address: string | null } }>(CREATE, { input: { name: 'Aachen Dom', city: 'Aachen' } });
    expect(res.errors).toBeUndefined();
    expect(res.data?.createStore.id).toMatch(/^[0-9a-f]{24}$/);
    expect(res.data?.createStore.address).toBeNull();
    const list = await env.gql<{ stores: { name: string }[] }>('{ stores { name } }', {}, customer('c1'));
    const names = list.data!.stores.map((s) => s.name);
    expect(names).toEqual([...names].sort());
  });

  it.each([
    ['STAFF', staff('S1'), 'FORBIDDEN'],
    ['CUSTOMER', customer('c1'), 'FORBIDDEN'],
    ['anonymous', ANON, 'UNAUTHENTICATED'],
  ])('%s may not create a store', async (_who, identity, code) => {
    const res = await env.gql(CREATE, { input: { id: 'NOPE', name: 'x', city: 'y' } }, identity);
    expect(res.errors?.[0]?.extensions?.code).toBe(code);
    const check = await env.gql('{ store(id: "NOPE") { id } }');
    expect(check.data?.store).toBeNull();
  });

  it('refuses a call without the identity header (HTTP 401)', async () => {
    const res = await env.gql('{ stores { id } }', {}, null);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['name', { id: 'BAD1', name: '  ', city: 'Berlin' }],
    ['name', { id: 'BAD2', name: 'n'.repeat(101), city: 'Berlin' }],
    ['city', { id: 'BAD3', name: 'Store', city: '' }],
    ['address', { id: 'BAD4', name: 'Store', city: 'Berlin', address: 'a'.repeat(301) }],
    ['id', { id: 'bad id!', name: 'Store', city: 'Berlin' }],
  ])('bad %s is BAD_USER_INPUT naming the field, and nothing is written', async (field, input) => {
    const before = await env.api.models.Store.countDocuments();
    const res = await env.gql(CREATE, { input });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe(field);
    expect(res.errors?.[0]?.message).toMatch(new RegExp(`^${field}: `));
    expect(res.data).toBeNull();
    expect(await env.api.models.Store.countDocuments()).toBe(before);
  });

  it('a taken id is BAD_USER_INPUT on id and leaves the store as it was', async () => {
    await env.gql(CREATE, { input: { id: 'DUP', name: 'First', city: 'Bonn' } });
    const res = await env.gql(CREATE, { input: { id: 'DUP', name: 'Second', city: 'Köln' } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    const check = await env.gql<{ store: { name: string } }>('{ store(id: "DUP") { name } }');
    expect(check.data?.store.name).toBe('First');
  });

  it('an unknown store is null', async () => {
    const res = await env.gql('{ store(id: "no-such-store") { id } }', {}, ANON);
    expect(res.errors).toBeUndefined();
    expect(res.data?.store).toBeNull();
  });
});

const ENTITIES = /* GraphQL */ `
  query ($reps: [_Any!]!) {
    _entities(representations: $reps) {
      __typename
      ... on Item { id store { id name city } }
      ... on Reservation { id storeOrder { id status storeId customerId reservationId itemName store { id } } }
      ... on Store { id name }
    }
  }
`;

describe('entities', () => {
  beforeAll(async () => {
    await env.gql(CREATE, { input: { id: 'E1', name: 'Entity Store', city: 'Hamburg' } });
    await env.gql(CREATE, { input: { id: 'E2', name: 'Other Store', city: 'Munich' } });
  });

  it('Item.store resolves from storeId, batched, null when unknown', async () => {
    const res = await env.gql<{ _entities: unknown[] }>(
      ENTITIES,
      {
        reps: [
          { __typename: 'Item', id: 'i1', storeId: 'E1' },
          { __typename: 'Item', id: 'i2', storeId: 'E2' },
          { __typename: 'Item', id: 'i3', storeId: 'E1' },
          { __typename: 'Item', id: 'i4', storeId: 'gone' },
        ],
      },
      ANON,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities).toEqual([
      { __typename: 'Item', id: 'i1', store: { id: 'E1', name: 'Entity Store', city: 'Hamburg' } },
      { __typename: 'Item', id: 'i2', store: { id: 'E2', name: 'Other Store', city: 'Munich' } },
      { __typename: 'Item', id: 'i3', store: { id: 'E1', name: 'Entity Store', city: 'Hamburg' } },
      { __typename: 'Item', id: 'i4', store: null },
    ]);
  });

  it('Store resolves by key', async () => {
    const res = await env.gql<{ _entities: unknown[] }>(ENTITIES, { reps: [{ __typename: 'Store', id: 'E2' }] }, ANON);
    expect(res.data?._entities).toEqual([{ __typename: 'Store', id: 'E2', name: 'Other Store' }]);
  });

  it('Reservation.storeOrder: the customer, staff of the store and admin see it; others (a service too) get null', async () => {
    const event = confirmedEvent({ storeId: 'E1', customerId: 'owner-1' });
    await env.bus.publish(event);
    const rid = event.payload.reservationId;
    await until(() => env.api.models.StoreOrder.exists({ reservationId: rid }), 10_000, 'store order');
    const reps = [
      { __typename: 'Reservation', id: rid },
      { __typename: 'Reservation', id: '00000000-0000-4000-8000-000000000000' },
    ];
    const asWho = async (identity: Parameters<StoresTestEnv['gql']>[2]) => {
      const res = await env.gql<{ _entities: { storeOrder: Record<string, unknown> | null }[] }>(ENTITIES, { reps }, identity);
      expect(res.errors).toBeUndefined();
      expect(res.data?._entities[1]?.storeOrder).toBeNull();
      return res.data?._entities[0]?.storeOrder ?? null;
    };
    const expected = { status: 'PENDING', storeId: 'E1', customerId: 'owner-1', reservationId: rid, itemName: 'Canon EOS R6', store: { id: 'E1' } };
    expect(await asWho(customer('owner-1'))).toMatchObject(expected);
    expect(await asWho(staff('E1'))).toMatchObject(expected);
    expect(await asWho(ADMIN)).toMatchObject(expected);
    expect(await asWho(customer('someone-else'))).toBeNull();
    expect(await asWho({ sub: 'reservations', role: 'SERVICE' })).toBeNull();
    expect(await asWho(staff('E2'))).toBeNull();
    expect(await asWho(ANON)).toBeNull();
  });
});

const ORDERS_PAGE = /* GraphQL */ `
  query ($s: ID!, $st: [StoreOrderStatus!], $first: Int, $after: String) {
    storeOrders(storeId: $s, status: $st, first: $first, after: $after) {
      totalCount
      edges { cursor node { id itemName status } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

interface OrdersPage {
  storeOrders: {
    totalCount: number;
    edges: { cursor: string; node: { id: string; itemName: string; status: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/** Every page of a store's orders, following `endCursor`: the ids in order, the page count, and each page's totalCount. */
async function walkOrders(storeId: string, opts: { first?: number; status?: string[] } = {}) {
  const ids: string[] = [];
  const totals: number[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const res: Awaited<ReturnType<typeof env.gql<OrdersPage>>> = await env.gql<OrdersPage>(
      ORDERS_PAGE,
      { s: storeId, st: opts.status ?? null, first: opts.first ?? null, after },
      staff(storeId),
    );
    expect(res.errors).toBeUndefined();
    const page = res.data!.storeOrders;
    pages += 1;
    totals.push(page.totalCount);
    expect(page.edges.length).toBeLessThanOrEqual(opts.first ?? 20);
    ids.push(...page.edges.map((e) => e.node.id));
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
    expect(pages).toBeLessThan(50);
  }
  return { ids, pages, totals };
}

/** The ids of a store's live orders (optionally some statuses) in the order the API promises: createdAt, then _id, both descending. */
async function newestFirst(storeId: string, statuses?: string[]): Promise<string[]> {
  const docs = await env.api.models.StoreOrder.find({ storeId, tombstone: { $exists: false }, ...(statuses ? { status: { $in: statuses } } : {}) }).lean();
  return docs
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0))
    .map((d) => d._id);
}

/** What a read must leave as it was: every order of the store with its status and last change. */
async function snapshotOrders(storeId: string) {
  return (await env.api.models.StoreOrder.find({ storeId }).sort({ _id: 1 }).lean()).map((d) => [d._id, d.status, d.updatedAt.toISOString()]);
}

describe('storeOrders', () => {
  it('lists a store’s orders newest first, filters by status, and is limited to its staff and admins', async () => {
    await env.gql(CREATE, { input: { id: 'L1', name: 'List Store', city: 'Leipzig' } });
    const events = [1, 2, 3].map((n) => confirmedEvent({ storeId: 'L1', itemName: `item ${n}` }));
    for (const e of events) {
      await env.bus.publish(e);
      await until(() => env.api.models.StoreOrder.exists({ reservationId: e.payload.reservationId }), 10_000, 'order');
      await new Promise((r) => setTimeout(r, 5));
    }
    const names = (res: Awaited<ReturnType<typeof env.gql<OrdersPage>>>) => res.data?.storeOrders.edges.map((e) => e.node.itemName);
    const all = await env.gql<OrdersPage>(ORDERS_PAGE, { s: 'L1' }, staff('L1'));
    expect(all.errors).toBeUndefined();
    expect(names(all)).toEqual(['item 3', 'item 2', 'item 1']);
    expect(all.data?.storeOrders.totalCount).toBe(3);

    const ready = await env.gql<OrdersPage>(ORDERS_PAGE, { s: 'L1', st: ['READY'] }, ADMIN);
    expect(ready.data?.storeOrders).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    const pending = await env.gql<OrdersPage>(ORDERS_PAGE, { s: 'L1', st: ['PENDING', 'READY'] }, ADMIN);
    expect(names(pending)).toHaveLength(3);

    expect((await env.gql(ORDERS_PAGE, { s: 'L1' }, staff('OTHER'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await env.gql(ORDERS_PAGE, { s: 'L1' }, customer('c1'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await env.gql(ORDERS_PAGE, { s: 'L1' }, ANON)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  describe('pages', () => {
    const STORE = 'P1';
    const PREPARE = 'mutation ($id: ID!) { prepareOrder(orderId: $id) { id status } }';

    beforeAll(async () => {
      // The worker's own insert, called directly: 25 orders at once, several sharing a millisecond.
      for (let i = 0; i < 25; i += 1) {
        await new StoreOrdersData(env.api.models.StoreOrder).createFromConfirmed(confirmedEvent({ storeId: STORE, itemName: `paged ${i}` }));
      }
    });

    it('walks more than one page: 20 by default, or `first` at a time; each order once, newest first, totalCount on every page', async () => {
      const expected = await newestFirst(STORE);
      expect(expected).toHaveLength(25);

      const byDefault = await walkOrders(STORE);
      expect(byDefault).toEqual({ ids: expected, pages: 2, totals: [25, 25] });

      const byTwo = await walkOrders(STORE, { first: 2 });
      expect(byTwo.ids).toEqual(expected);
      expect(byTwo.pages).toBe(13);
      expect(new Set(byTwo.totals)).toEqual(new Set([25]));

      const whole = await walkOrders(STORE, { first: 100 });
      expect(whole).toEqual({ ids: expected, pages: 1, totals: [25] });
    });

    it('orders created in the same millisecond keep one order across pages (ties broken by id)', async () => {
      const tied = 'P2';
      for (let i = 0; i < 7; i += 1) await new StoreOrdersData(env.api.models.StoreOrder).createFromConfirmed(confirmedEvent({ storeId: tied }));
      // Through the driver: mongoose keeps createdAt immutable.
      await env.api.models.StoreOrder.collection.updateMany({ storeId: tied }, { $set: { createdAt: new Date('2027-01-01T00:00:00.000Z') } });
      const byId = (await newestFirst(tied)).slice();
      expect(byId).toEqual([...byId].sort().reverse());
      expect((await walkOrders(tied, { first: 3 })).ids).toEqual(byId);
    });

    it('the status filter pages too, and totalCount counts what it keeps', async () => {
      const listed = await newestFirst(STORE, ['PENDING']);
      for (const id of listed.slice(3, 8)) expect((await env.gql(PREPARE, { id }, staff(STORE))).errors).toBeUndefined();

      const ready = await walkOrders(STORE, { first: 2, status: ['READY'] });
      expect(ready.ids).toEqual(await newestFirst(STORE, ['READY']));
      expect(ready.ids).toHaveLength(5);
      expect(ready.pages).toBe(3);
      expect(new Set(ready.totals)).toEqual(new Set([5]));

      const pending = await walkOrders(STORE, { first: 7, status: ['PENDING'] });
      expect(pending.ids).toEqual(await newestFirst(STORE, ['PENDING']));
      expect(pending.totals[0]).toBe(20);
      expect((await walkOrders(STORE, { first: 7, status: ['PENDING', 'READY'] })).ids).toEqual(await newestFirst(STORE));
    });

    it.each([
      ['first', { first: 0 }],
      ['first', { first: 101 }],
      ['first', { first: -1 }],
      ['first', { first: 1000 }],
      ['after', { after: 'garbage!' }],
      ['after', { after: Buffer.from(JSON.stringify(['items', '65a1b2c3d4e5f60718293a4b'])).toString('base64url') }],
      ['after', { after: Buffer.from(JSON.stringify(['storeOrders', 'yesterday', 'x'])).toString('base64url') }],
    ])('bad %s → BAD_USER_INPUT naming it, no orders, nothing changed', async (field, vars) => {
      const before = await snapshotOrders(STORE);
      const res = await env.gql(ORDERS_PAGE, { s: STORE, ...vars }, staff(STORE));
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0]?.message).toMatch(new RegExp(`^${field}: `));
      expect(res.data).toBeNull();
      expect(await snapshotOrders(STORE)).toEqual(before);
    });

    it('access comes first: an outsider is refused as before, whatever the page asked for', async () => {
      for (const vars of [{}, { first: 2 }, { first: 0 }, { after: 'garbage!' }]) {
        expect((await env.gql(ORDERS_PAGE, { s: STORE, ...vars }, staff('OTHER'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect((await env.gql(ORDERS_PAGE, { s: STORE, ...vars }, customer('c1'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect((await env.gql(ORDERS_PAGE, { s: STORE, ...vars }, ANON)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
      const admin = await env.gql<OrdersPage>(ORDERS_PAGE, { s: STORE, first: 2 }, ADMIN);
      expect(admin.errors).toBeUndefined();
      expect(admin.data?.storeOrders.totalCount).toBe(25);
    });
  });
});
