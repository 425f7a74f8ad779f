/** registerItem, item, items and _entities against the real database, over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, ITEM_FIELDS, REGISTER, registerAs, startTestItems, type TestItems } from './testing.js';

let t: TestItems;
beforeAll(async () => {
  t = await startTestItems();
});
afterAll(async () => {
  await t?.stop();
});

const input = (patch: Record<string, unknown> = {}) => ({
  storeId: 'store-A',
  name: 'Sony A7 IV',
  description: 'Mirrorless camera',
  category: 'cameras',
  dailyRate: 3500,
  stock: 4,
  ...patch,
});

interface Item {
  id: string;
  name: string;
  description: string | null;
  category: string;
  dailyRate: number;
  stock: number;
  storeId: string;
}

describe('registerItem authorization', () => {
  it('anonymous → UNAUTHENTICATED', async () => {
    const res = await t.gql(REGISTER, { input: input() }, as.anonymous);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('customer → FORBIDDEN', async () => {
    const res = await t.gql(REGISTER, { input: input() }, as.customer);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('staff of another store → FORBIDDEN', async () => {
    const before = await t.countItems();
    const res = await t.gql(REGISTER, { input: input() }, as.staff('store-B'));
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await t.countItems()).toBe(before);
  });

  it('a service identity may not register items → FORBIDDEN', async () => {
    const res = await t.gql(REGISTER, { input: input() }, as.service);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('staff of the store → registered, trimmed', async () => {
    const res = await t.gql<{ registerItem: Item }>(REGISTER, { input: input({ name: '  Sony A7 IV ' }) }, as.staff('store-A'));
    expect(res.errors).toBeUndefined();
    expect(res.data?.registerItem).toMatchObject({ ...input(), name: 'Sony A7 IV' });
    expect(res.data?.registerItem.id).toMatch(/^[0-9a-f]{24}$/);
  });

  it('admin → registered for any store', async () => {
    const res = await t.gql<{ registerItem: Item }>(REGISTER, { input: input({ storeId: 'store-Z', description: null }) }, as.admin);
    expect(res.errors).toBeUndefined();
    expect(res.data?.registerItem).toMatchObject({ storeId: 'store-Z', description: null });
  });
});

describe('registerItem bad input: BAD_USER_INPUT naming the field, nothing written', () => {
  it.each([
    ['name', { name: '' }],
    ['name', { name: '   ' }],
    ['name', { name: 'x'.repeat(201) }],
    ['category', { category: '' }],
    ['description', { description: 'd'.repeat(2001) }],
    ['dailyRate', { dailyRate: -1 }],
    ['dailyRate', { dailyRate: 0 }],
    ['stock', { stock: -3 }],
    ['storeId', { storeId: '' }],
  ])('rule on %s: %j', async (field, patch) => {
    const before = await t.countItems();
    // ADMIN, so that authorization passes whatever the storeId.
    const res = await t.gql(REGISTER, { input: input(patch) }, as.admin);
    expect(res.data).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(res.errors?.[0]?.message).toMatch(new RegExp(`^${field}: `));
    expect(await t.countItems()).toBe(before);
  });

  // Types GraphQL itself rejects while coercing variables: Apollo answers BAD_USER_INPUT, naming the path.
  it.each([
    ['dailyRate', { dailyRate: 12.5 }],
    ['stock', { stock: 0.5 }],
    ['dailyRate', { dailyRate: '100' }],
    ['stock', { stock: 2 ** 40 }],
    ['name', { name: null }],
    ['extra', { extra: 'field' }],
    ['price', { price: 100 }],
  ])('variable coercion on %s: %j', async (field, patch) => {
    const before = await t.countItems();
    const res = await t.gql(REGISTER, { input: input(patch) }, as.admin);
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain(field);
    expect(res.errors?.[0]?.extensions).not.toHaveProperty('stacktrace');
    expect(await t.countItems()).toBe(before);
  });

  it('a missing required field is BAD_USER_INPUT naming it', async () => {
    const { category: _c, ...rest } = input();
    const res = await t.gql(REGISTER, { input: rest }, as.admin);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('category');
  });

  it('an unknown field written inline fails validation, naming it', async () => {
    const before = await t.countItems();
    const res = await t.gql(
      `mutation { registerItem(input: { storeId: "s", name: "n", category: "c", dailyRate: 1, stock: 1, color: "red" }) { id } }`,
      undefined,
      as.admin,
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toContain('color');
    expect(await t.countItems()).toBe(before);
  });
});

describe('item(id)', () => {
  let id: string;
  beforeAll(async () => {
    id = await registerAs(t, { name: 'Lookup me', storeId: 'store-L' });
  });

  it('returns the item to anyone', async () => {
    for (const who of [as.anonymous, as.customer]) {
      const res = await t.gql<{ item: Item }>(`query($id: ID!) { item(id: $id) { ${ITEM_FIELDS} } }`, { id }, who);
      expect(res.data?.item).toMatchObject({ id, name: 'Lookup me', storeId: 'store-L' });
    }
  });

  it.each(['65a1b2c3d4e5f60718293a4b', 'xyz', '', '{"$gt":""}', 'x'.repeat(500)])('is null for unknown id %j', async (bad) => {
    const res = await t.gql(`query($id: ID!) { item(id: $id) { id } }`, { id: bad });
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ item: null });
  });

  it('does not expose holds', async () => {
    const res = await t.gql(`query($id: ID!) { item(id: $id) { holds } }`, { id });
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('_entities (federation references)', () => {
  it('resolves many representations in order, null for unknown ones', async () => {
    const ids = [await registerAs(t, { name: 'E1' }), await registerAs(t, { name: 'E2' }), await registerAs(t, { name: 'E3' })];
    const reps = [ids[2], 'nope', ids[0], '65a1b2c3d4e5f60718293a4b', ids[1], ids[0]].map((id) => ({ __typename: 'Item', id }));
    const res = await t.gql<{ _entities: Array<{ id: string; name: string } | null> }>(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id name } } }`,
      { r: reps },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities.map((e) => e?.name ?? null)).toEqual(['E3', null, 'E1', null, 'E2', 'E1']);
  });
});

describe('items(filter, first, after)', () => {
  const ITEMS = `query($filter: ItemFilter, $first: Int, $after: String) {
    items(filter: $filter, first: $first, after: $after) {
      totalCount edges { cursor node { id name category storeId stock } } pageInfo { hasNextPage endCursor }
    }
  }`;
  interface Page {
    items: {
      totalCount: number;
      edges: Array<{ cursor: string; node: Item }>;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  }
  const created: Item[] = [];

  beforeAll(async () => {
    // A store of its own, so other tests' items do not interfere.
    for (let i = 0; i < 23; i++) {
      const category = i % 3 === 0 ? 'drones' : 'laptops';
      const storeId = i % 2 === 0 ? 'page-store-1' : 'page-store-2';
      const name = i === 7 ? 'Mavic (Pro) 3.0' : `Page item ${i}`;
      const id = await registerAs(t, { storeId, category, name, stock: i % 4 === 0 ? 0 : 2 });
      created.push({ id, name, category, storeId, stock: i % 4 === 0 ? 0 : 2, description: null, dailyRate: 1000 });
    }
  });

  async function walk(filter: Record<string, unknown>, first: number): Promise<{ ids: string[]; pages: number; total: number }> {
    const ids: string[] = [];
    let after: string | null = null;
    let pages = 0;
    let total = -1;
    for (;;) {
      const res: { data?: Page | null; errors?: unknown } = await t.gql<Page>(ITEMS, { filter, first, after });
      expect(res.errors).toBeUndefined();
      const page = res.data!.items;
      total = page.totalCount;
      pages++;
      expect(page.edges.length).toBeLessThanOrEqual(first);
      ids.push(...page.edges.map((e) => e.node.id));
      if (page.edges.length) expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
      expect(pages).toBeLessThan(50);
    }
    return { ids, pages, total };
  }

  it('returns every item of a store exactly once, across pages, in a stable order', async () => {
    const expected = created.filter((c) => c.storeId === 'page-store-1').map((c) => c.id);
    const { ids, pages, total } = await walk({ storeId: 'page-store-1' }, 5);
    expect(ids).toEqual(expected);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages).toBe(Math.ceil(expected.length / 5));
    expect(total).toBe(expected.length);
  });

  it('filters by category (and store)', async () => {
    const drones = created.filter((c) => c.category === 'drones').map((c) => c.id);
    const both = created.filter((c) => c.category === 'drones' && c.storeId === 'page-store-2').map((c) => c.id);
    const all = await walk({ category: 'drones' }, 100);
    // Other tests registered no drones.
    expect(all.ids).toEqual(drones);
    expect((await walk({ category: 'drones', storeId: 'page-store-2' }, 2)).ids).toEqual(both);
  });

  it('filters by stock and by a literal, case-insensitive name search', async () => {
    const inStock = created.filter((c) => c.storeId === 'page-store-2' && c.stock > 0).map((c) => c.id);
    const outOfStock = created.filter((c) => c.storeId === 'page-store-2' && c.stock === 0).map((c) => c.id);
    expect((await walk({ storeId: 'page-store-2', inStock: true }, 3)).ids).toEqual(inStock);
    expect((await walk({ storeId: 'page-store-2', inStock: false }, 3)).ids).toEqual(outOfStock);
    expect((await walk({ search: 'mavic (pro) 3.' }, 10)).ids).toEqual([created[7]!.id]);
    // Regex metacharacters are literal: ".*" matches nothing here.
    expect((await walk({ search: '.*' }, 10)).ids).toEqual([]);
  });

  it('defaults to 20 per page', async () => {
    const res = await t.gql<Page>(ITEMS, { filter: { category: 'laptops' } });
    expect(res.data?.items.edges).toHaveLength(Math.min(20, created.filter((c) => c.category === 'laptops').length));
    expect(res.data?.items.pageInfo.hasNextPage).toBe(false);
  });

  it('an empty result has no end cursor', async () => {
    const res = await t.gql<Page>(ITEMS, { filter: { storeId: 'no-such-store' } });
    expect(res.data?.items).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it.each([
    ['first', { first: 0 }],
    ['first', { first: 101 }],
    ['first', { first: -1 }],
    ['after', { after: 'garbage!' }],
    ['after', { after: Buffer.from('item:xyz').toString('base64url') }],
    ['filter.search', { filter: { search: 's'.repeat(101) } }],
  ])('bad %s → BAD_USER_INPUT', async (field, vars) => {
    const res = await t.gql(ITEMS, vars);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});
