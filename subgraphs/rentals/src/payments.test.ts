/** chargePayment / refundPayment over HTTP against the real database. */
import { rentalIdFor } from './data/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHARGE,
  REFUND,
  RESERVATION_RENTAL,
  as,
  chargeInput,
  startTestRentals,
  type Payment,
  type Rental,
  type TestRentals,
} from './testing.js';

let t: TestRentals;
beforeAll(async () => {
  // A short provider timeout keeps the tok_timeout tests fast. No worker needed here.
  t = await startTestRentals({ PAYMENT_PROVIDER_TIMEOUT_MS: '300' }, false);
});
afterAll(async () => {
  await t?.stop();
});

const charge = (input: Record<string, unknown>) => t.gql<{ chargePayment: Payment }>(CHARGE, { input }, as.service);
const refund = (r: string) => t.gql<{ refundPayment: Payment | null }>(REFUND, { r }, as.service);
async function rentalOf(reservationId: string): Promise<Rental | null> {
  const res = await t.gql<{ _entities: Array<{ rental: Rental | null }> }>(
    RESERVATION_RENTAL,
    { reps: [{ __typename: 'Reservation', id: reservationId }] },
    as.admin,
  );
  return res.data?._entities[0]?.rental ?? null;
}

describe('chargePayment', () => {
  it('approves tok_approve: PAID, and the rental awaits pickup', async () => {
    const input = chargeInput();
    const res = await charge(input);
    expect(res.errors).toBeUndefined();
    expect(res.data?.chargePayment).toMatchObject({ status: 'PAID', amount: 6000, currency: 'EUR', reason: null });
    const rental = await rentalOf(input.reservationId);
    expect(rental).toMatchObject({ status: 'AWAITING_PICKUP', readyForPickup: false, quantity: 2, storeId: 'store-1' });
    expect(rental?.payment.id).toBe(res.data?.chargePayment.id);
  });

  it('declines tok_decline with a DECLINED payment, not an error; the rental is cancelled', async () => {
    const input = chargeInput({ paymentToken: 'tok_decline' });
    const res = await charge(input);
    expect(res.errors).toBeUndefined();
    expect(res.data?.chargePayment).toMatchObject({ status: 'DECLINED', reason: 'card declined' });
    expect((await rentalOf(input.reservationId))?.status).toBe('CANCELLED');
  });

  it('records FAILED when the provider never answers (tok_timeout), after PAYMENT_PROVIDER_TIMEOUT_MS', async () => {
    const input = chargeInput({ paymentToken: 'tok_timeout' });
    const started = Date.now();
    const res = await charge(input);
    const took = Date.now() - started;
    expect(res.errors).toBeUndefined();
    expect(res.data?.chargePayment).toMatchObject({ status: 'FAILED', reason: 'payment provider timed out' });
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(2_000);
    // The provider call was aborted, so nothing keeps waiting on it.
    const call = t.provider.charges.find((c) => c.reference === input.reservationId);
    expect(call?.signal?.aborted).toBe(true);
    // A retry answers the recorded result without calling the provider again.
    const again = await charge(input);
    expect(again.data?.chargePayment).toMatchObject({ status: 'FAILED', id: res.data?.chargePayment.id });
    expect(t.provider.chargesFor(input.reservationId)).toBe(1);
  });

  it('answers BAD_USER_INPUT on paymentToken for an unknown token, and records nothing', async () => {
    const input = chargeInput({ paymentToken: 'tok_visa' });
    const res = await charge(input);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'paymentToken' });
    expect(await t.db.collection('rentals').countDocuments({ reservationId: input.reservationId })).toBe(0);
  });

  it.each([
    [{ amount: 0 }, 'amount'],
    [{ amount: 100_000_001 }, 'amount'],
    [{ quantity: 0 }, 'quantity'],
    [{ paymentToken: '' }, 'paymentToken'],
    [{ reservationId: 'a.b' }, 'reservationId'],
  ])('refuses bad input %j', async (override, field) => {
    const res = await charge(chargeInput(override));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('charges once when called twice: the second call answers the first result', async () => {
    const input = chargeInput();
    const first = await charge(input);
    const second = await charge({ ...input, amount: 9999 });
    expect(second.data?.chargePayment).toEqual(first.data?.chargePayment);
    expect(t.provider.chargesFor(input.reservationId)).toBe(1);
  });

  it('charges once under 10 concurrent duplicate calls', async () => {
    const input = chargeInput();
    const results = await Promise.all(Array.from({ length: 10 }, () => charge(input)));
    for (const r of results) expect(r.errors).toBeUndefined();
    const ids = new Set(results.map((r) => r.data?.chargePayment.id));
    expect(ids.size).toBe(1);
    expect(results.every((r) => r.data?.chargePayment.status === 'PAID')).toBe(true);
    expect(t.provider.chargesFor(input.reservationId)).toBe(1);
    const docs = await t.db.collection('rentals').find({ reservationId: input.reservationId }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.payment.providerCalls).toBe(1);
  });

  it('makes concurrent duplicates of a slow charge wait for its final status', async () => {
    const input = chargeInput({ paymentToken: 'tok_timeout' });
    const results = await Promise.all(Array.from({ length: 5 }, () => charge(input)));
    expect(results.map((r) => r.data?.chargePayment.status)).toEqual(Array(5).fill('FAILED'));
    expect(t.provider.chargesFor(input.reservationId)).toBe(1);
  });
});

describe('crash recovery', () => {
  it('takes over a charge left PROCESSING by a dead process, calling the provider with the same reference', async () => {
    const input = chargeInput();
    const longAgo = new Date(Date.now() - 60_000);
    await t.db.collection('rentals').insertOne({
      _id: rentalIdFor(input.reservationId) as never,
      reservationId: input.reservationId,
      customerId: input.customerId,
      storeId: input.storeId,
      itemId: input.itemId,
      quantity: input.quantity,
      status: 'PENDING_PAYMENT',
      readyForPickup: false,
      payment: {
        id: 'p-crashed',
        status: 'PROCESSING',
        amount: input.amount,
        currency: 'EUR',
        reason: null,
        provider: 'sandbox',
        token: 'tok_approve',
        providerRef: null,
        providerCalls: 1,
        attemptStartedAt: longAgo,
        refundRequested: false,
      },
      outbox: {},
      outboxCount: 0,
      processedEvents: {},
    });
    const res = await charge(input);
    expect(res.errors).toBeUndefined();
    expect(res.data?.chargePayment).toMatchObject({ id: 'p-crashed', status: 'PAID' });
    const doc = await t.db.collection('rentals').findOne({ reservationId: input.reservationId });
    expect(doc?.payment.providerCalls).toBe(2);
    expect(doc?.status).toBe('AWAITING_PICKUP');
  });

  it('answers TRY_LATER to a duplicate while a fresh charge is still PROCESSING elsewhere', async () => {
    const input = chargeInput();
    await t.db.collection('rentals').insertOne({
      _id: rentalIdFor(input.reservationId) as never,
      reservationId: input.reservationId,
      customerId: input.customerId,
      storeId: input.storeId,
      itemId: input.itemId,
      quantity: input.quantity,
      status: 'PENDING_PAYMENT',
      readyForPickup: false,
      payment: { id: 'p-inflight', status: 'PROCESSING', amount: input.amount, currency: 'EUR', provider: 'sandbox', token: 'tok_approve', providerCalls: 1, attemptStartedAt: new Date() },
      outbox: {},
      outboxCount: 0,
      processedEvents: {},
    });
    const res = await charge(input);
    expect(res.errors?.[0]?.extensions?.code).toBe('TRY_LATER');
    expect(t.provider.chargesFor(input.reservationId)).toBe(0);
  });
});

describe('refundPayment', () => {
  it('refunds a paid payment and cancels the rental; again answers the same, refunding once', async () => {
    const input = chargeInput();
    await charge(input);
    const first = await refund(input.reservationId);
    expect(first.errors).toBeUndefined();
    expect(first.data?.refundPayment).toMatchObject({ status: 'REFUNDED', amount: 6000 });
    const second = await refund(input.reservationId);
    expect(second.data?.refundPayment).toEqual(first.data?.refundPayment);
    expect(t.provider.refundsFor(input.reservationId)).toBe(1);
    expect((await rentalOf(input.reservationId))?.status).toBe('CANCELLED');
  });

  it('refunds once under concurrent refund calls', async () => {
    const input = chargeInput();
    await charge(input);
    const results = await Promise.all(Array.from({ length: 8 }, () => refund(input.reservationId)));
    expect(results.map((r) => r.data?.refundPayment?.status)).toEqual(Array(8).fill('REFUNDED'));
    expect(t.provider.refundsFor(input.reservationId)).toBe(1);
  });

  it('answers null for an unknown reservation', async () => {
    const res = await refund('no-such-reservation');
    expect(res.errors).toBeUndefined();
    expect(res.data?.refundPayment).toBeNull();
  });

  it('leaves a declined payment as it is', async () => {
    const input = chargeInput({ paymentToken: 'tok_decline' });
    await charge(input);
    const res = await refund(input.reservationId);
    expect(res.data?.refundPayment?.status).toBe('DECLINED');
    expect(t.provider.refundsFor(input.reservationId)).toBe(0);
  });

  it('refunds a charge that is still in flight as soon as it settles', async () => {
    const input = chargeInput();
    // Start the charge and the refund together: whichever order they land in, the money comes back.
    const [c, r] = await Promise.all([charge(input), refund(input.reservationId)]);
    expect(c.errors).toBeUndefined();
    expect(r.errors).toBeUndefined();
    const rental = await rentalOf(input.reservationId);
    if (r.data?.refundPayment === null) {
      // The refund arrived before the charge inserted anything: nothing to refund then.
      expect(rental?.payment.status).toBe('PAID');
    } else {
      expect(rental?.payment.status).toBe('REFUNDED');
      expect(rental?.status).toBe('CANCELLED');
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
