/**
 * The stores API over real HTTP: createStore and its access rules and input
 * checks, the public store queries, `Item.store` and `Reservation.storeOrder`
 * entity resolution, and `storeOrders` access.
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
} from './test-support.js';

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

  it('Reservation.storeOrder: the customer, staff of the store and admin see it; others get null', async () => {
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
    expect(await asWho({ sub: 'reservations', role: 'SERVICE' })).toMatchObject(expected);
    expect(await asWho(customer('someone-else'))).toBeNull();
    expect(await asWho(staff('E2'))).toBeNull();
    expect(await asWho(ANON)).toBeNull();
  });
});

describe('storeOrders', () => {
  it('lists a store’s orders newest first, filters by status, and is limited to its staff and admins', async () => {
    await env.gql(CREATE, { input: { id: 'L1', name: 'List Store', city: 'Leipzig' } });
    const events = [1, 2, 3].map((n) => confirmedEvent({ storeId: 'L1', itemName: `item ${n}` }));
    for (const e of events) {
      await env.bus.publish(e);
      await until(() => env.api.models.StoreOrder.exists({ reservationId: e.payload.reservationId }), 10_000, 'order');
      await new Promise((r) => setTimeout(r, 5));
    }
    const Q = 'query ($s: ID!, $st: [StoreOrderStatus!]) { storeOrders(storeId: $s, status: $st) { itemName status } }';
    const all = await env.gql<{ storeOrders: { itemName: string }[] }>(Q, { s: 'L1' }, staff('L1'));
    expect(all.errors).toBeUndefined();
    expect(all.data?.storeOrders.map((o) => o.itemName)).toEqual(['item 3', 'item 2', 'item 1']);

    const ready = await env.gql<{ storeOrders: unknown[] }>(Q, { s: 'L1', st: ['READY'] }, ADMIN);
    expect(ready.data?.storeOrders).toEqual([]);
    const pending = await env.gql<{ storeOrders: unknown[] }>(Q, { s: 'L1', st: ['PENDING', 'READY'] }, ADMIN);
    expect(pending.data?.storeOrders).toHaveLength(3);

    expect((await env.gql(Q, { s: 'L1' }, staff('OTHER'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await env.gql(Q, { s: 'L1' }, customer('c1'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await env.gql(Q, { s: 'L1' }, ANON)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
