/** Items through the router: register, browse, authorization, bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startSystem, userToken, type System } from './helpers.js';

let sys: System;
let staff: string;
const STORE = 'store-e2e-1';

const REGISTER = `mutation Register($input: RegisterItemInput!) {
  registerItem(input: $input) { id name description category dailyRate stock storeId }
}`;
const validInput = { storeId: STORE, name: 'Sony A7 IV', description: 'Camera', category: 'camera', dailyRate: 4500, stock: 3 };

async function countInStore(): Promise<number> {
  const res = await gql<{ items: { totalCount: number } }>(
    sys.router.url,
    `query { items(filter: { storeId: "${STORE}" }) { totalCount } }`,
  );
  return res.data!.items.totalCount;
}

beforeAll(async () => {
  sys = await startSystem('items');
  staff = await userToken('STAFF', 'bob', STORE);
});
afterAll(() => sys?.stop());

describe('items through the router', () => {
  it('staff registers an item; anyone then finds it by id and in the catalog', async () => {
    const reg = await gql<{ registerItem: { id: string } & typeof validInput }>(sys.router.url, REGISTER, {
      variables: { input: validInput },
      token: staff,
    });
    expect(reg.errors).toBeUndefined();
    const item = reg.data!.registerItem;
    expect(item).toMatchObject(validInput);

    const byId = await gql(sys.router.url, 'query($id: ID!) { item(id: $id) { id name stock dailyRate storeId } }', {
      variables: { id: item.id },
    });
    expect(byId.errors).toBeUndefined();
    expect(byId.data).toEqual({
      item: { id: item.id, name: validInput.name, stock: 3, dailyRate: 4500, storeId: STORE },
    });

    const list = await gql<{ items: { edges: Array<{ node: { id: string } }>; totalCount: number } }>(
      sys.router.url,
      `query { items(filter: { storeId: "${STORE}" }, first: 10) { totalCount edges { node { id } } pageInfo { hasNextPage } } }`,
    );
    expect(list.errors).toBeUndefined();
    expect(list.data!.items.edges.map((e) => e.node.id)).toContain(item.id);
  });

  it('an unknown item is null, not an error', async () => {
    for (const id of ['0123456789abcdef01234567', 'no-such-item']) {
      const res = await gql(sys.router.url, 'query($id: ID!) { item(id: $id) { id } }', { variables: { id } });
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ item: null });
    }
  });

  it('registerItem: anonymous → UNAUTHENTICATED, customer or other store → FORBIDDEN', async () => {
    const before = await countInStore();
    const anon = await gql(sys.router.url, REGISTER, { variables: { input: validInput } });
    expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const t of [await userToken('CUSTOMER', 'carol'), await userToken('STAFF', 'eve', 'other-store')]) {
      const res = await gql(sys.router.url, REGISTER, { variables: { input: validInput }, token: t });
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(res.data).toBeNull();
    }
    expect(await countInStore()).toBe(before);
  });

  it('an invalid token is refused with UNAUTHENTICATED', async () => {
    const res = await gql(sys.router.url, REGISTER, { variables: { input: validInput }, token: `${staff}x` });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['an unknown field (variables)', { ...validInput, colour: 'red' }, 'colour'],
    ['a fractional rate (variables)', { ...validInput, dailyRate: 12.5 }, 'dailyRate'],
    ['a negative stock', { ...validInput, stock: -1 }, 'stock'],
    ['an empty name', { ...validInput, name: '   ' }, 'name'],
    ['a 201-character name', { ...validInput, name: 'x'.repeat(201) }, 'name'],
    ['a zero rate', { ...validInput, dailyRate: 0 }, 'dailyRate'],
  ])('registerItem with %s → BAD_USER_INPUT naming the field, nothing written', async (_n, input, field) => {
    const before = await countInStore();
    const res = await gql(sys.router.url, REGISTER, { variables: { input }, token: staff });
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(res.errors?.[0]?.message).toContain(field);
    expect(JSON.stringify(res)).not.toContain('stacktrace');
    expect(await countInStore()).toBe(before);
  });

  it.each([
    ['an unknown field', `colour: "red"`, 'colour'],
    ['a string rate', `dailyRate: "cheap"`, 'dailyRate'],
    ['a fractional stock', `stock: 1.5`, 'stock'],
  ])('registerItem with %s written inline → the same BAD_USER_INPUT naming the field', async (_n, override, field) => {
    const key = override.split(':')[0]!;
    const fields = Object.entries(validInput)
      .filter(([k]) => k !== key)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .concat(override)
      .join(', ');
    const res = await gql(sys.router.url, `mutation { registerItem(input: { ${fields} }) { id } }`, { token: staff });
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('the internal stock operations are not reachable through the router', async () => {
    const res = await gql(
      sys.router.url,
      'mutation { holdStock(reservationId: "r1", itemId: "0123456789abcdef01234567", quantity: 1) { quantity } }',
      { token: staff },
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/Cannot query field "holdStock"/);
  });
});
