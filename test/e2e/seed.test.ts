/** `npm run seed` (infra/local/seed.ts) through the real router: demo data loaded once, a second run creates nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_STORES, seed } from '../../infra/local/seed.js';
import { requireEnv, startStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tag: 'seed', workers: [] });
});
afterAll(() => stack?.stop());

describe('seed', () => {
  it('creates the demo stores and items through the router, and is idempotent', async () => {
    const secret = requireEnv('JWT_SECRET');
    const itemCount = DEMO_STORES.reduce((n, s) => n + s.items.length, 0);
    const first = await seed({ url: stack.url, secret });
    expect(first.stores.created).toEqual(['Downtown', 'Airport']);
    expect(first.items.created).toHaveLength(itemCount);

    const second = await seed({ url: stack.url, secret });
    expect(second.stores).toEqual({ created: [], skipped: ['Downtown', 'Airport'] });
    expect(second.items.created).toEqual([]);
    expect(second.items.skipped).toHaveLength(itemCount);

    const res = await stack.gql<{ stores: Array<{ id: string; name: string }>; items: { totalCount: number; edges: Array<{ node: { name: string; dailyRate: number; store: { name: string } } }> } }>(
      undefined,
      '{ stores { id name } items(first: 100) { totalCount edges { node { name dailyRate store { name } } } } }',
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.stores.map((s) => [s.id, s.name]).sort()).toEqual([['S1', 'Downtown'], ['S2', 'Airport']]);
    expect(res.data!.items.totalCount).toBe(itemCount);
    const tesla = res.data!.items.edges.find((e) => e.node.name === 'Tesla Model 3');
    expect(tesla?.node).toEqual({ name: 'Tesla Model 3', dailyRate: 8900, store: { name: 'Airport' } });
  });

  it('says where the router is when it cannot reach it', async () => {
    await expect(seed({ url: 'http://127.0.0.1:9/graphql', secret: requireEnv('JWT_SECRET') })).rejects.toThrow(/npm start/);
  });
});
