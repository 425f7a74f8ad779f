/** chargePayment / refundPayment over HTTP against the real database: answers, idempotency, money. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHARGE, REFUND, as, chargeInput, startTestRentals, type TestRentals } from './testing.js';

let t: TestRentals;
beforeAll(async () => {
  // A short provider timeout keeps the tok_timeout tests fast. No worker needed here.
  t = await startTestRentals({ PAYMENT_PROVIDER_TIMEOUT_MS: '300' }, false);
});
afterAll(async () => {
  await t?.stop();
});

describe('chargePayment', () => {
  it('approves tok_approve: PAID, and the rental awaits pickup', async () => {
    const input = chargeInput();
    const res = await t.charge(input);
    expect(res.errors).toBeUndefined();
    expect(res.data?.chargePayment).toMatchObject({ status: 'PAID', amount: 6000, currency: 'EUR', reason: null });
    const rental = await t.rentalOf(input.reservationId);
    expect(rental).toMatchObject({ status: 'AWAITING_PICKUP', readyForPickup: false, quantity: 2, storeId: 'store-1' });
    expect(rental?.payment.id).toBe(res.data?.chargePayment.id);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
  });

  it('declines tok_decline with a DECLINED payment, not an error; the rental is cancelled', async () => {
    const input = chargeInput({ paymentToken: 'tok_decline' });
    const res = await t.charge(input);
    expect(res.errors).toBeUndefined();
    expect(res.data?.chargePayment).toMatchObject({ status: 'DECLINED', reason: 'card declined' });
    expect((await t.rentalOf(input.reservationId))?.status).toBe('CANCELLED');
    expect(t.provider.chargedFor(input.reservationId)).toBe(0);
  });

  it('records FAILED when the provider never answers (tok_timeout), after PAYMENT_PROVIDER_TIMEOUT_MS', async () => {
    const input = chargeInput({ paymentToken: 'tok_timeout' });
    const started = Date.now();
    const res = await t.charge(input);
    const took = Date.now() - started;
    expect(res.errors).toBeUndefined();
    expect(res.data?.chargePayment).toMatchObject({ status: 'FAILED', reason: 'payment provider timed out' });
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(2_000);
    // The provider call was aborted, so nothing keeps waiting on it.
    const call = t.provider.charges.find((c) => c.reference === input.reservationId);
    expect(call?.signal?.aborted).toBe(true);
    // A retry asks the provider again (same reference) and answers the recorded payment.
    const again = await t.charge(input);
    expect(again.data?.chargePayment).toMatchObject({ status: 'FAILED', id: res.data?.chargePayment.id });
    expect(t.provider.chargedFor(input.reservationId)).toBe(0);
    expect(await t.db.collection('rentals').countDocuments({ reservationId: input.reservationId })).toBe(1);
  });

  it('answers BAD_USER_INPUT on paymentToken for an unknown token, and records nothing', async () => {
    const input = chargeInput({ paymentToken: 'tok_visa' });
    const res = await t.charge(input);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'paymentToken' });
    expect(await t.db.collection('rentals').countDocuments({ reservationId: input.reservationId })).toBe(0);
    expect(t.provider.chargesFor(input.reservationId)).toBe(0);
  });

  it.each([
    [{ amount: 0 }, 'amount'],
    [{ amount: 100_000_001 }, 'amount'],
    [{ quantity: 0 }, 'quantity'],
    [{ paymentToken: '' }, 'paymentToken'],
    [{ reservationId: 'a.b' }, 'reservationId'],
  ])('refuses bad input %j', async (override, field) => {
    const res = await t.charge(chargeInput(override));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('charges once when called twice: the second call answers the first result', async () => {
    const input = chargeInput();
    const first = await t.charge(input);
    const second = await t.charge({ ...input, amount: 9999 });
    expect(second.data?.chargePayment).toEqual(first.data?.chargePayment);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
  });

  it('charges once under 10 concurrent duplicate calls', async () => {
    const input = chargeInput();
    const results = await Promise.all(Array.from({ length: 10 }, () => t.charge(input)));
    for (const r of results) expect(r.errors).toBeUndefined();
    const ids = new Set(results.map((r) => r.data?.chargePayment.id));
    expect(ids.size).toBe(1);
    expect(results.every((r) => r.data?.chargePayment.status === 'PAID')).toBe(true);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
    const docs = await t.db.collection('rentals').find({ reservationId: input.reservationId }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.payment.id).toBe([...ids][0]);
  });

  it('answers concurrent duplicates of a charge the provider never answers with one FAILED payment', async () => {
    const input = chargeInput({ paymentToken: 'tok_timeout' });
    const results = await Promise.all(Array.from({ length: 5 }, () => t.charge(input)));
    expect(results.map((r) => r.data?.chargePayment.status)).toEqual(Array(5).fill('FAILED'));
    expect(new Set(results.map((r) => r.data?.chargePayment.id)).size).toBe(1);
    expect(t.provider.chargedFor(input.reservationId)).toBe(0);
  });

  it('gives the money back when the provider charged a reservation recorded as FAILED (it answered after the timeout)', async () => {
    const input = chargeInput({ paymentToken: 'tok_timeout' });
    const failed = await t.charge(input);
    expect(failed.data?.chargePayment.status).toBe('FAILED');
    // A retry reaches the provider, which this time charges: the record still says FAILED
    // (the saga took that as "not paid"), so the money goes back and the record is answered.
    const retry = await t.charge({ ...input, paymentToken: 'tok_approve' });
    expect(retry.errors).toBeUndefined();
    expect(retry.data?.chargePayment).toEqual(failed.data?.chargePayment);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
    expect(t.provider.givenBackFor(input.reservationId)).toBe(6000);
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
  });
});

describe('refundPayment', () => {
  it('refunds a paid payment and cancels the rental; again answers the same, refunding once', async () => {
    const input = chargeInput();
    await t.charge(input);
    const first = await t.refund(input.reservationId);
    expect(first.errors).toBeUndefined();
    expect(first.data?.refundPayment).toMatchObject({ status: 'REFUNDED', amount: 6000 });
    const second = await t.refund(input.reservationId);
    expect(second.data?.refundPayment).toEqual(first.data?.refundPayment);
    expect(t.provider.refundsFor(input.reservationId)).toBe(1);
    expect(t.provider.givenBackFor(input.reservationId)).toBe(6000);
    expect((await t.rentalOf(input.reservationId))?.status).toBe('CANCELLED');
  });

  it('refunds once under concurrent refund calls', async () => {
    const input = chargeInput();
    const charged = await t.charge(input);
    const results = await Promise.all(Array.from({ length: 8 }, () => t.refund(input.reservationId)));
    expect(results.map((r) => r.data?.refundPayment?.status)).toEqual(Array(8).fill('REFUNDED'));
    expect(new Set(results.map((r) => r.data?.refundPayment?.id))).toEqual(new Set([charged.data?.chargePayment.id]));
    expect(t.provider.givenBackFor(input.reservationId)).toBe(6000);
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
  });

  it('answers null for an unknown reservation, and shows no rental for it', async () => {
    const reservationId = chargeInput().reservationId;
    const res = await t.refund(reservationId);
    expect(res.errors).toBeUndefined();
    expect(res.data?.refundPayment).toBeNull();
    expect(await t.rentalOf(reservationId)).toBeNull();
    expect((await t.refund(reservationId)).data?.refundPayment).toBeNull();
  });

  it('leaves a declined payment as it is', async () => {
    const input = chargeInput({ paymentToken: 'tok_decline' });
    await t.charge(input);
    const res = await t.refund(input.reservationId);
    expect(res.data?.refundPayment?.status).toBe('DECLINED');
    expect(t.provider.refundsFor(input.reservationId)).toBe(0);
  });

  it('a charge and a refund sent together end with the money back, whichever lands first', async () => {
    for (let round = 0; round < 5; round++) {
      const input = chargeInput();
      const [c, r] = await Promise.all([t.charge(input), t.refund(input.reservationId)]);
      expect(c.errors).toBeUndefined();
      expect(r.errors).toBeUndefined();
      expect(['PAID', 'REFUNDED']).toContain(c.data?.chargePayment.status);
      const rental = await t.rentalOf(input.reservationId);
      expect(rental).toMatchObject({ status: 'CANCELLED', payment: { status: 'REFUNDED', id: c.data?.chargePayment.id, amount: 6000 } });
      expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
      expect(t.provider.heldFor(input.reservationId)).toBe(0);
    }
  });
});

describe('internal fields need a SERVICE identity', () => {
  it.each([
    ['customer', as.customer()],
    ['staff', as.staff('store-1')],
    ['admin', as.admin],
  ])('%s gets FORBIDDEN on chargePayment and refundPayment', async (_name, identity) => {
    const input = chargeInput();
    const c = await t.gql(CHARGE, { input }, identity);
    expect(c.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const r = await t.gql(REFUND, { r: input.reservationId }, identity);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await t.db.collection('rentals').countDocuments({ reservationId: input.reservationId })).toBe(0);
  });

  it('anonymous gets UNAUTHENTICATED; no identity header gets HTTP 401', async () => {
    const c = await t.gql(CHARGE, { input: chargeInput() }, as.anonymous);
    expect(c.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const none = await t.gql(CHARGE, { input: chargeInput() }, null);
    expect(none.status).toBe(401);
  });
});
