/**
 * Dependencies that are slow or fail after the fact, and the sweeper that
 * settles what a saga left PENDING. A fault proxy sits in front of items and
 * rentals and fails or hangs chosen operations.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, signInternalIdentity } from '@rental/auth';
import { STALE_SAGA_REASON } from './saga/reservation-saga.js';
import { as, day, startFaultProxy, startTestSystem, type FaultProxy, type TestSystem } from './testing.js';

let t: TestSystem;
let itemsProxy: FaultProxy;
let rentalsProxy: FaultProxy;

beforeAll(async () => {
  t = await startTestSystem({
    env: {
      // Long enough that a busy machine (other test files hammering FerretDB) is not mistaken for a fault.
      ITEMS_TIMEOUT_MS: '1500',
      RENTALS_TIMEOUT_MS: '3000',
      CALL_RETRIES: '1',
      CALL_BACKOFF_MS: '10',
      // These tests are about timeouts and compensation, not the breaker.
      BREAKER_VOLUME_THRESHOLD: '100000',
    },
    api: { disableSweeper: true },
  });
  itemsProxy = await startFaultProxy(() => t.items.url);
  rentalsProxy = await startFaultProxy(() => t.rentals.url);
  await t.restartApi({ disableSweeper: true }, { ITEMS_URL: itemsProxy.url, RENTALS_URL: rentalsProxy.url });
});
beforeEach(() => {
  itemsProxy.rules.clear();
  rentalsProxy.rules.clear();
});
afterAll(async () => {
  await itemsProxy?.stop();
  await rentalsProxy?.stop();
  await t?.stop();
});

/** A sweep that sees every reservation as stale. */
const sweepAll = () => t.api.sweeper.sweepOnce(new Date(Date.now() + 3_600_000));

describe('slow or failing dependencies', () => {
  it('holdStock timing out after taking the stock: compensated, REJECTED, SERVICE_UNAVAILABLE', async () => {
    const itemId = await t.registerItem({ stock: 2 });
    itemsProxy.rules.set('ReservationsHoldStock', 'forward-then-hang');
    const res = await t.create(itemId);
    expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const [doc] = await t.api.data.model.find({ itemId }).lean();
    expect(doc?.status).toBe('REJECTED');
    expect(doc?.history.at(-1)?.reason).toMatch(/^SERVICE_UNAVAILABLE/);
    expect(await t.stockOf(itemId)).toBe(2);
  });

  it('chargePayment timing out after charging: refunded, stock back, REJECTED', async () => {
    const itemId = await t.registerItem({ stock: 2 });
    rentalsProxy.rules.set('ReservationsChargePayment', 'forward-then-hang');
    const res = await t.create(itemId);
    expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(res.errors?.[0]?.extensions?.dependency).toBe('rentals');
    const [doc] = await t.api.data.model.find({ itemId }).lean();
    expect(doc?.status).toBe('REJECTED');
    expect(await t.stockOf(itemId)).toBe(2);
    expect((await t.paymentOf(doc!._id))?.status).toBe('REFUNDED');
  }, 30_000);

  it('a compensation that cannot run now leaves the reservation PENDING; the sweeper settles it later', async () => {
    const itemId = await t.registerItem({ stock: 2 });
    itemsProxy.rules.set('ReservationsHoldStock', 'forward-then-hang');
    itemsProxy.rules.set('ReservationsReleaseStock', 'fail');
    const res = await t.create(itemId);
    expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const [doc] = await t.api.data.model.find({ itemId }).lean();
    expect(doc?.status).toBe('PENDING');
    expect(await t.stockOf(itemId)).toBe(1);

    // Items still refusing: the sweep cannot settle it and leaves it for the next one.
    expect((await sweepAll()).waiting).toBeGreaterThanOrEqual(1);
    expect((await t.doc(doc!._id))?.status).toBe('PENDING');

    itemsProxy.rules.clear();
    expect((await sweepAll()).settled).toBeGreaterThanOrEqual(1);
    const settled = await t.doc(doc!._id);
    expect(settled?.status).toBe('REJECTED');
    expect(settled?.history.at(-1)?.reason).toBe(STALE_SAGA_REASON);
    expect(await t.stockOf(itemId)).toBe(2);
  });

  it('settles a PENDING reservation a crashed process left behind (stock held, payment taken)', async () => {
    const itemId = await t.registerItem({ stock: 3, dailyRate: 100 });
    const id = randomUUID();
    // What a process that died after holdStock and chargePayment leaves: a PENDING document.
    await t.api.data.insertPending(
      { _id: id, customerId: 'carol', itemId, itemName: 'Camera', storeId: 'store-1', quantity: 2, startDate: day(1), endDate: day(2), days: 1, requestId: null },
      new Date(Date.now() - 60_000),
    );
    const service = await signInternalIdentity({ sub: 'reservations', role: 'SERVICE' }, t.secret, 'reservations');
    const post = (url: string, query: string, variables: Record<string, unknown>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: service }, body: JSON.stringify({ query, variables }) }).then((r) => r.json());
    await post(t.items.url, 'mutation($r: ID!, $i: ID!) { holdStock(reservationId: $r, itemId: $i, quantity: 2) { quantity } }', { r: id, i: itemId });
    await post(
      t.rentals.url,
      'mutation($input: ChargePaymentInput!) { chargePayment(input: $input) { status } }',
      { input: { reservationId: id, customerId: 'carol', storeId: 'store-1', itemId, quantity: 2, amount: 200, paymentToken: 'tok_approve' } },
    );
    expect(await t.stockOf(itemId)).toBe(1);
    expect((await t.paymentOf(id))?.status).toBe('PAID');

    // Not stale yet by the configured age: untouched.
    await t.api.sweeper.sweepOnce(new Date(Date.now() - 3_600_000));
    expect((await t.doc(id))?.status).toBe('PENDING');

    await sweepAll();
    const doc = await t.doc(id);
    expect(doc?.status).toBe('REJECTED');
    expect(doc?.history.map((h) => h.status)).toEqual(['PENDING', 'REJECTED']);
    expect(doc?.history.at(-1)?.reason).toBe(STALE_SAGA_REASON);
    expect(await t.stockOf(itemId)).toBe(3);
    expect((await t.paymentOf(id))?.status).toBe('REFUNDED');
    const jobs = await t.bus.queue('reservations').getJobs(['waiting', 'completed']);
    expect(jobs.some((j) => j.name === 'ReservationRejected' && (j.data as { correlationId: string }).correlationId === id)).toBe(true);
  });

  it('the periodic sweeper runs in the API process', async () => {
    // Stale after 2.5 s: long enough that a healthy saga on a busy machine is never taken for a stuck one
    // (staleness must exceed the request deadline + 1 s, so the deadline is lowered with it).
    await t.restartApi({}, { ITEMS_URL: itemsProxy.url, RENTALS_URL: rentalsProxy.url, SAGA_SWEEP_MS: '100', SAGA_STALE_MS: '2500', REQUEST_DEADLINE_MS: '1400' });
    try {
      const itemId = await t.registerItem({ stock: 1 });
      const id = randomUUID();
      await t.api.data.insertPending(
        { _id: id, customerId: 'carol', itemId, itemName: 'Camera', storeId: 'store-1', quantity: 1, startDate: day(1), endDate: day(2), days: 1, requestId: null },
        new Date(),
      );
      const deadline = Date.now() + 10_000;
      while ((await t.doc(id))?.status === 'PENDING' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect((await t.doc(id))?.status).toBe('REJECTED');
      // A confirmed reservation is never touched by the sweeper.
      const ok = await t.create(itemId, {}, as.customer());
      expect(ok.data?.createReservation.status).toBe('CONFIRMED');
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await t.doc(ok.data!.createReservation.id))?.status).toBe('CONFIRMED');
    } finally {
      await t.restartApi({ disableSweeper: true }, { ITEMS_URL: itemsProxy.url, RENTALS_URL: rentalsProxy.url });
    }
  });

  it('a saga overtaken by the sweeper does not confirm, and undoes its own effects', async () => {
    const itemId = await t.registerItem({ stock: 2 });
    // Charging hangs past the timeout while the sweeper takes the reservation over.
    rentalsProxy.rules.set('ReservationsChargePayment', 'forward-then-hang');
    const pending = t.create(itemId);
    const deadline = Date.now() + 5_000;
    let doc;
    while (!(doc = (await t.api.data.model.find({ itemId }).lean())[0]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!doc) throw new Error('the PENDING reservation was not written within 5 s');
    await t.api.data.claimStale(doc._id, new Date(Date.now() + 60_000));
    const res = await pending;
    expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    // The saga compensated but could not write REJECTED (the sweeper owns it): still PENDING, stock back.
    expect((await t.doc(doc._id))?.status).toBe('PENDING');
    expect(await t.stockOf(itemId)).toBe(2);
    await sweepAll();
    expect((await t.doc(doc._id))?.status).toBe('REJECTED');
    expect((await t.paymentOf(doc._id))?.status).toBe('REFUNDED');
  }, 30_000);
});
