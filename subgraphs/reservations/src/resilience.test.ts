/**
 * Items stopped: createReservation fails with SERVICE_UNAVAILABLE, holds no
 * stock and leaves nothing PENDING; once the breaker is open it answers in
 * under 100 ms; items back, reservations succeed again without a restart.
 * Domain answers (NOT_FOUND, INSUFFICIENT_STOCK) never open the breaker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, startTestSystem, type TestSystem } from './testing.js';

const RESET_MS = 1000;

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem({
    env: {
      ITEMS_TIMEOUT_MS: '500',
      BREAKER_RESET_MS: String(RESET_MS),
      BREAKER_VOLUME_THRESHOLD: '3',
      BREAKER_ERROR_THRESHOLD_PCT: '50',
      CALL_RETRIES: '2',
      CALL_BACKOFF_MS: '20',
    },
  });
});
afterAll(async () => {
  await t?.stop();
});

describe('items unavailable', () => {
  it('domain answers do not count as breaker failures', async () => {
    const itemId = await t.registerItem({ stock: 1 });
    for (let i = 0; i < 6; i += 1) {
      expect((await t.create('0123456789abcdef01234567')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect((await t.create(itemId, { quantity: 2 })).errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
    }
    expect(t.api.breakers.items.state).toBe('closed');
  });

  it('fails fast with SERVICE_UNAVAILABLE, holds nothing, leaves nothing PENDING, and recovers without a restart', { timeout: 30_000 }, async () => {
    const itemId = await t.registerItem({ stock: 3 });
    await t.stopItems();

    const first = await t.create(itemId);
    expect(first.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(first.errors?.[0]?.extensions?.dependency).toBe('items');

    // Failures open the breaker once they pass 50% of the rolling window (which still holds the
    // successes of the previous test); from then on the answer is immediate.
    for (let i = 0; i < 50 && t.api.breakers.items.state !== 'open'; i += 1) await t.create(itemId);
    expect(t.api.breakers.items.state).toBe('open');
    const timings: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      const res = await t.create(itemId);
      timings.push(performance.now() - started);
      expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    }
    console.log(`[resilience] answers with the items breaker open: ${timings.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    for (const ms of timings) expect(ms).toBeLessThan(100);

    expect(await t.api.data.model.countDocuments({ status: 'PENDING' })).toBe(0);
    expect(await t.api.data.model.countDocuments({ itemId })).toBe(0);

    await t.restartItems();
    expect(await t.stockOf(itemId)).toBe(3);
    await new Promise((r) => setTimeout(r, RESET_MS + 200));
    const again = await t.create(itemId);
    expect(again.errors).toBeUndefined();
    expect(again.data?.createReservation.status).toBe('CONFIRMED');
    expect(t.api.breakers.items.state).toBe('closed');
    expect(await t.stockOf(itemId)).toBe(2);
  });

  it('exports the breaker state as a metric', async () => {
    const res = await fetch(t.api.url.replace(/\/graphql$/, '/metrics'));
    const text = await res.text();
    expect(text).toMatch(/dependency_circuit_state\{service="reservations",dependency="items"\} 0/);
    expect(text).toMatch(/dependency_calls_total\{[^}]*dependency="items"[^}]*outcome="refused"\}/);
  });

  it('cancel with rentals down answers SERVICE_UNAVAILABLE and changes nothing', async () => {
    const itemId = await t.registerItem({ stock: 2 });
    const r = (await t.create(itemId, {}, as.customer('dora'))).data!.createReservation;
    const rentalsUrl = t.config.RENTALS_URL;
    await t.restartApi({}, { RENTALS_URL: 'http://127.0.0.1:9/graphql' });
    const res = await t.gql(
      'mutation C($id: ID!) { cancelReservation(id: $id) { status } }',
      { id: r.id },
      as.customer('dora'),
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect((await t.doc(r.id))?.status).toBe('CONFIRMED');
    expect(await t.stockOf(itemId)).toBe(1);
    await t.restartApi({}, { RENTALS_URL: rentalsUrl });
  });
});
