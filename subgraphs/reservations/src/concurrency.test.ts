/**
 * 200 customers reserve one unit each of an item with stock 20, all at once:
 * exactly 20 CONFIRMED, stock 0 (never negative), every other one refused
 * with INSUFFICIENT_STOCK: recorded REJECTED when its hold was refused, or
 * not recorded at all when the saga found the item sold out before writing
 * (items-client.ts, `wasShort`). Against the real items and rentals
 * subgraphs on FerretDB, so it is slow-ish: the timing is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, startTestSystem, type TestSystem } from './testing.js';

const CUSTOMERS = 200;
const STOCK = 20;

let t: TestSystem;
beforeAll(async () => {
  // Generous per-call timeouts: under this burst FerretDB answers slowly, and
  // a timeout would (correctly) turn a reservation into SERVICE_UNAVAILABLE.
  t = await startTestSystem({ env: { ITEMS_TIMEOUT_MS: '20000', RENTALS_TIMEOUT_MS: '20000', BREAKER_VOLUME_THRESHOLD: '1000', OUTBOX_SWEEP_MS: '5000' }, rentalsEnv: { OUTBOX_SWEEP_MS: '5000' } });
});
afterAll(async () => {
  await t?.stop();
});

describe('concurrency', () => {
  it(`${CUSTOMERS} concurrent reservations of one unit against stock ${STOCK}`, { timeout: 180_000 }, async () => {
    const itemId = await t.registerItem({ stock: STOCK, dailyRate: 500 });
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: CUSTOMERS }, (_, i) => t.create(itemId, { quantity: 1 }, as.customer(`customer-${i}`))),
    );
    const elapsed = Date.now() - started;

    const confirmed = results.filter((r) => r.data?.createReservation);
    const codes = results.filter((r) => r.errors).map((r) => r.errors?.[0]?.extensions?.code);
    console.log(
      `[concurrency] ${CUSTOMERS} createReservation calls in ${elapsed} ms: ${confirmed.length} confirmed, ` +
        `${codes.filter((c) => c === 'INSUFFICIENT_STOCK').length} INSUFFICIENT_STOCK, other errors: ${JSON.stringify(codes.filter((c) => c !== 'INSUFFICIENT_STOCK'))}`,
    );

    expect(confirmed).toHaveLength(STOCK);
    expect(codes).toHaveLength(CUSTOMERS - STOCK);
    expect(new Set(codes)).toEqual(new Set(['INSUFFICIENT_STOCK']));
    for (const r of confirmed) expect(r.data!.createReservation.status).toBe('CONFIRMED');
    expect(await t.stockOf(itemId)).toBe(0);

    const byStatus = await t.api.data.model.aggregate<{ _id: string; n: number }>([
      { $match: { itemId } },
      { $group: { _id: '$status', n: { $sum: 1 } } },
    ]);
    const statuses = Object.fromEntries(byStatus.map((s) => [s._id, s.n]));
    expect(Object.keys(statuses).sort()).toEqual(['CONFIRMED', 'REJECTED']);
    expect(statuses.CONFIRMED).toBe(STOCK);
    expect(statuses.REJECTED).toBeGreaterThan(0); // the first refused holds
    expect(statuses.REJECTED).toBeLessThanOrEqual(CUSTOMERS - STOCK);
    const paid = await t.rentalsDb.collection('rentals').countDocuments({ itemId, 'payment.status': 'PAID' });
    expect(paid).toBe(STOCK);
  });
});
