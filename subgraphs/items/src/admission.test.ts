/**
 * holdStock under a rush: admission control (HOLD_STOCK_CONCURRENCY at once,
 * HOLD_STOCK_QUEUE waiting, the rest TRY_LATER at once, taking nothing), and
 * the caller's deadline (x-rental-timeout-ms): a hold applied well inside it
 * skips the release-tombstone read, one that may be late still makes it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoose } from '@rental/db';
import { TIMEOUT_HEADER } from '@rental/subgraph-server';
import { as, HOLD, registerAs, RELEASE, startTestItems, type TestItems } from './testing.js';

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

/**
 * The database operations items makes while `work` runs (items runs in this
 * process; mongoose's debug hook sees every collection call of every connection).
 */
async function operationsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  mongoose.set('debug', (collection: string, method: string) => {
    if (collection === 'items' || collection === 'stock_releases') seen.push(`${collection}.${method}`);
  });
  try {
    await work();
  } finally {
    mongoose.set('debug', false);
  }
  return seen;
}

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

describe('late holds and the caller deadline', () => {
  it('a hold applied well inside its caller\'s deadline is one write and no read', async () => {
    const itemId = await registerAs(t, { stock: 5 });
    const operations = await operationsDuring(() => hold(randomUUID(), itemId, { [TIMEOUT_HEADER]: '5000' }));
    expect(operations).toEqual(['items.findOneAndUpdate']);
  });

  it('without a caller deadline, or near it, the hold reads the tombstone: a hold that lands after its release gives the unit back', async () => {
    const itemId = await registerAs(t, { stock: 5 });
    expect(await operationsDuring(() => hold(randomUUID(), itemId))).toEqual(['items.findOneAndUpdate', 'stock_releases.findOne']);
    // The caller gave up on a hold (its deadline passed) and released the reservation; the hold then lands.
    const rid = randomUUID();
    const released = await t.gql<{ releaseStock: Hold | null }>(RELEASE, { r: rid, i: itemId }, as.service);
    expect(released.data?.releaseStock).toBeNull();
    await t.gql(RELEASE, { r: rid, i: itemId }, as.service);
    const first = await hold(rid, itemId, { [TIMEOUT_HEADER]: '5000' });
    // Nothing was held before the release, so that release left no tombstone: this hold is a normal one.
    expect(first.data?.holdStock.released).toBe(false);
    const again = await t.gql<{ releaseStock: Hold | null }>(RELEASE, { r: rid, i: itemId }, as.service);
    expect(again.data?.releaseStock?.released).toBe(true);
    // A retry of that hold arriving after the release, close to its deadline: it undoes itself.
    const late = await hold(rid, itemId, { [TIMEOUT_HEADER]: '500' });
    expect(late.data?.holdStock.released).toBe(true);
    expect(await t.stockOf(itemId)).toBe(4); // only the first reservation of this test holds a unit
  });
});
