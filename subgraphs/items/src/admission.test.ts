/**
 * holdStock under a rush: admission control (HOLD_STOCK_CONCURRENCY at once,
 * HOLD_STOCK_QUEUE waiting, the rest TRY_LATER at once, taking nothing), and
 * the caller's deadline (x-rental-timeout-ms).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMEOUT_HEADER } from '@rental/subgraph-server';
import { as, HOLD, registerAs, startTestItems, type TestItems } from './testing.js';

let t: TestItems;
beforeAll(async () => {
  t = await startTestItems({ HOLD_STOCK_CONCURRENCY: '2', HOLD_STOCK_QUEUE: '3', HOLD_STOCK_RETRY_AFTER_SECONDS: '2' });
});
afterAll(async () => {
  await t?.stop();
});

interface Hold {
  reservationId: string;
  released: boolean;
  item: { stock: number };
}
const hold = (r: string, i: string, headers: Record<string, string> = {}) => t.gql<{ holdStock: Hold }>(HOLD, { r, i, q: 1 }, as.service, headers);

describe('holdStock admission', () => {
  it('a burst beyond slots and queue: the excess gets TRY_LATER with retryAfterSeconds at once and takes nothing; the admitted ones are exact', async () => {
    const itemId = await registerAs(t, { stock: 100 });
    const results = await Promise.all(Array.from({ length: 40 }, () => hold(randomUUID(), itemId)));
    const held = results.filter((r) => r.data?.holdStock);
    const shed = results.filter((r) => r.errors?.[0]?.extensions?.code === 'TRY_LATER');
    expect(held.length + shed.length).toBe(40);
    expect(held.length).toBeGreaterThanOrEqual(5); // 2 running + 3 waiting at least
    expect(shed.length).toBeGreaterThan(0);
    for (const r of shed) {
      // At least the configured hint (2 s), at most 10 s: when the work ahead should be done.
      const hint = r.errors![0]!.extensions!.retryAfterSeconds as number;
      expect(hint).toBeGreaterThanOrEqual(2);
      expect(hint).toBeLessThanOrEqual(10);
    }
    expect(await t.stockOf(itemId)).toBe(100 - held.length);
  });

  it('a hold whose caller has no time left is TRY_LATER at once and takes nothing', async () => {
    const itemId = await registerAs(t, { stock: 100 });
    const late = await hold(randomUUID(), itemId, { [TIMEOUT_HEADER]: '0' });
    expect(late.errors?.[0]?.extensions?.code).toBe('TRY_LATER');
    expect(await t.stockOf(itemId)).toBe(100);
  });
});
