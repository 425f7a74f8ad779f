/**
 * The charge protocol (charge.ts, "one insert, no read") against
 * the real database with real concurrency: what each path costs the
 * database, a refund that overtakes its charge, duplicates of a charge in
 * flight together (through one API process and through two), crashes and
 * provider outages at each step, and the stored documents against the schema.
 */
import type { mongo } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callSubgraph } from '@rental/subgraph-server/testing';
import { startRentals, type RunningRentals } from './app.js';
import { rentalIdFor, rentalModel } from './data/index.js';
import { CHARGE, as, chargeInput, startTestRentals, type GraphQLResponse, type Payment, type TestRentals } from './testing.js';

let t: TestRentals;
beforeAll(async () => {
  // A long provider timeout: a charge held at the provider must not time out
  // while a refund overtakes it. The outbox sweep is off (its scans would
  // show up among the commands counted here); no worker.
  t = await startTestRentals({ PAYMENT_PROVIDER_TIMEOUT_MS: '10000', OUTBOX_SWEEP_MS: '600000' }, false);
});
afterAll(async () => {
  await t?.stop();
});

const rawDoc = (reservationId: string) => t.db.collection('rentals').findOne({ _id: rentalIdFor(reservationId) as never });

/** Waits until the provider has received `n` charges for `reservationId` (they are in flight there). */
async function chargeAtProvider(reservationId: string, n = 1): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (t.provider.chargesFor(reservationId) < n) {
    if (Date.now() > deadline) throw new Error('the charge never reached the provider');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('what each path costs the database', () => {
  it('a charge is ONE insert and no read, approved or declined', async () => {
    for (const paymentToken of ['tok_approve', 'tok_decline']) {
      const input = chargeInput({ paymentToken });
      const { result, commands } = await t.commandsDuring(() => t.charge(input));
      expect(result.errors).toBeUndefined();
      expect(commands).toEqual(['insert rentals']);
    }
  });

  it('a duplicate charge costs a refused insert and one read, and moves no money', async () => {
    const input = chargeInput();
    const first = await t.charge(input);
    const { result, commands } = await t.commandsDuring(() => t.charge(input));
    expect(result.data?.chargePayment).toEqual(first.data?.chargePayment);
    expect(commands).toEqual(['insert rentals', 'find rentals']);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
  });

  it('a refund of a paid rental: one read, the cancel, the REFUNDED record', async () => {
    const input = chargeInput();
    await t.charge(input);
    const { result, commands } = await t.commandsDuring(() => t.refund(input.reservationId));
    expect(result.data?.refundPayment?.status).toBe('REFUNDED');
    expect(commands).toEqual(['find rentals', 'findAndModify rentals', 'findAndModify rentals']);
  });

  it('a refund with no recorded charge: one read and the marker insert', async () => {
    const { reservationId } = chargeInput();
    const { result, commands } = await t.commandsDuring(() => t.refund(reservationId));
    expect(result.data?.refundPayment).toBeNull();
    expect(commands).toEqual(['find rentals', 'insert rentals']);
  });
});

describe('a refund before the charge is recorded', () => {
  it('overtakes a charge in flight at the provider: the late charge gives the money back and answers REFUNDED', async () => {
    const input = chargeInput();
    const release = t.provider.holdCharges(input.reservationId);
    const late = t.charge(input);
    await chargeAtProvider(input.reservationId);

    const refund = await t.refund(input.reservationId);
    expect(refund.errors).toBeUndefined();
    expect(refund.data?.refundPayment).toBeNull(); // nothing recorded yet
    expect((await rawDoc(input.reservationId))?.payment).toEqual({ status: 'VOIDED' });
    expect(await t.rentalOf(input.reservationId)).toBeNull();

    // Everything the late charge does in the database happens after the provider answers.
    const { result, commands } = await t.commandsDuring(() => {
      release();
      return late;
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?.chargePayment).toMatchObject({ status: 'REFUNDED', amount: 6000, currency: 'EUR' });
    expect(commands).toEqual(['insert rentals', 'find rentals', 'findAndModify rentals']);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
    expect(t.provider.givenBackFor(input.reservationId)).toBe(6000);
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
    expect(await t.rentalOf(input.reservationId)).toMatchObject({
      status: 'CANCELLED',
      quantity: 2,
      storeId: 'store-1',
      payment: result.data?.chargePayment,
    });

    // Afterwards the reservation answers that payment, and moves no money again.
    expect((await t.refund(input.reservationId)).data?.refundPayment).toEqual(result.data?.chargePayment);
    expect((await t.charge(input)).data?.chargePayment).toEqual(result.data?.chargePayment);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
  });

  it('gives back a charge the provider made for a process that died before its insert', async () => {
    const input = chargeInput();
    // The dead process's provider call: the money is taken, nothing is recorded.
    await t.provider.charge({ reference: input.reservationId, amount: input.amount, currency: 'EUR', token: 'tok_approve' });
    expect(t.provider.heldFor(input.reservationId)).toBe(6000);

    // The saga compensates: the void at the provider gives the money back.
    const refund = await t.refund(input.reservationId);
    expect(refund.data?.refundPayment).toBeNull();
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
    expect(t.provider.givenBackFor(input.reservationId)).toBe(6000);

    // A saga retry of the charge arriving after that meets the marker.
    const retry = await t.charge(input);
    expect(retry.data?.chargePayment).toMatchObject({ status: 'REFUNDED', amount: 6000 });
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
  });

  it('a void the provider does not confirm: SERVICE_UNAVAILABLE, the marker stays, the retry gives the money back', async () => {
    const input = chargeInput();
    await t.provider.charge({ reference: input.reservationId, amount: input.amount, currency: 'EUR', token: 'tok_approve' });
    t.provider.failNextRefunds(1);
    const failed = await t.refund(input.reservationId);
    expect(failed.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect((await rawDoc(input.reservationId))?.payment).toEqual({ status: 'VOIDED' });
    expect(t.provider.heldFor(input.reservationId)).toBe(6000);

    const retry = await t.refund(input.reservationId);
    expect(retry.errors).toBeUndefined();
    expect(retry.data?.refundPayment).toBeNull();
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
  });

  it('a late charge whose give-back the provider does not confirm: SERVICE_UNAVAILABLE, and its retry completes it', async () => {
    const input = chargeInput();
    await t.refund(input.reservationId); // the marker
    t.provider.failNextRefunds(1);
    const late = await t.charge(input);
    expect(late.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(t.provider.heldFor(input.reservationId)).toBe(6000);
    expect((await rawDoc(input.reservationId))?.payment).toEqual({ status: 'VOIDED' });

    const retry = await t.charge(input);
    expect(retry.data?.chargePayment).toMatchObject({ status: 'REFUNDED', amount: 6000 });
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
  });

  it('concurrent refunds with nothing recorded: one marker, all answer null; a late charge is given back', async () => {
    const input = chargeInput();
    const refunds = await Promise.all(Array.from({ length: 6 }, () => t.refund(input.reservationId)));
    for (const r of refunds) {
      expect(r.errors).toBeUndefined();
      expect(r.data?.refundPayment).toBeNull();
    }
    expect(await t.db.collection('rentals').countDocuments({ reservationId: input.reservationId })).toBe(1);
    const late = await Promise.all(Array.from({ length: 4 }, () => t.charge(input)));
    expect(late.map((r) => r.data?.chargePayment.status)).toEqual(Array(4).fill('REFUNDED'));
    expect(new Set(late.map((r) => r.data?.chargePayment.id)).size).toBe(1);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
  });

  it('charges and refunds of one reservation racing: one payment, the money back, every round', async () => {
    const charge = (input: ReturnType<typeof chargeInput>) =>
      t.charge(input).then((r) => ({ kind: 'charge' as const, payment: r.data?.chargePayment ?? null, errors: r.errors }));
    const refund = (reservationId: string) =>
      t.refund(reservationId).then((r) => ({ kind: 'refund' as const, payment: r.data?.refundPayment ?? null, errors: r.errors }));
    for (let round = 0; round < 8; round++) {
      const input = chargeInput();
      // Even rounds: all calls at once (the instant sandbox charge mostly inserts
      // first). Odd rounds: the provider answers the charges only once the first
      // refund has answered, so that refund leaves a marker and the charges are late,
      // still racing the second refund and each other.
      const release = round % 2 === 1 ? t.provider.holdCharges(input.reservationId) : undefined;
      const first = refund(input.reservationId);
      void first.then(release, release);
      const results = await Promise.all([charge(input), first, charge(input), refund(input.reservationId), charge(input)]);
      for (const r of results) expect(r.errors).toBeUndefined();
      if (release) expect(results[1]?.payment).toBeNull();

      const rental = await t.rentalOf(input.reservationId);
      expect(rental).toMatchObject({ status: 'CANCELLED', payment: { status: 'REFUNDED', amount: 6000 } });
      const paymentId = rental?.payment.id;
      for (const r of results) {
        if (r.kind === 'charge') {
          expect(['PAID', 'REFUNDED']).toContain(r.payment?.status);
          expect(r.payment?.id).toBe(paymentId);
        } else if (r.payment) {
          expect(r.payment).toMatchObject({ status: 'REFUNDED', id: paymentId });
        }
      }
      expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
      expect(t.provider.heldFor(input.reservationId)).toBe(0);
    }
  });
});

describe('duplicates of one charge in flight together', () => {
  const DATA_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'find', 'aggregate', 'count', 'distinct', 'getMore']);

  /** The outbox relay's sweep (a process just started runs one at once): not the charge's. */
  const isOutboxSweep = (event: mongo.CommandStartedEvent) =>
    event.commandName === 'find' && (event.command.filter as Record<string, unknown> | undefined)?.outboxCount !== undefined;

  /** Records the finds and writes each API process sends for charges, from now on, as `<command> <collection>`. */
  function recordCommands(apis: RunningRentals[]): { commands: string[][]; stop(): void } {
    const commands = apis.map(() => [] as string[]);
    const listeners = apis.map((api, i) => {
      const client = api.runtime.conn.getClient();
      const listener = (event: mongo.CommandStartedEvent) => {
        if (DATA_COMMANDS.has(event.commandName) && !isOutboxSweep(event)) {
          commands[i]!.push(`${event.commandName} ${String(event.command[event.commandName])}`);
        }
      };
      client.on('commandStarted', listener);
      return () => client.off('commandStarted', listener);
    });
    return { commands, stop: () => listeners.forEach((off) => off()) };
  }

  /**
   * Two charges of one reservation, held at the provider until both are
   * there: while they wait (long enough for a poll every 20 ms to show ten
   * times over) neither process sends the database anything; released, each
   * inserts, the loser reads once, and both answer the one payment.
   */
  async function chargeTwiceTogether(charge: Array<(input: ReturnType<typeof chargeInput>) => Promise<GraphQLResponse<{ chargePayment: Payment }>>>, apis: RunningRentals[]) {
    const input = chargeInput();
    const release = t.provider.holdCharges(input.reservationId);
    const recorder = recordCommands(apis);
    try {
      const both = Promise.all(charge.map((c) => c(input)));
      await chargeAtProvider(input.reservationId, 2);
      await new Promise((r) => setTimeout(r, 250));
      expect(recorder.commands.flat()).toEqual([]);
      release();
      const [first, second] = await both;
      expect(first?.errors).toBeUndefined();
      expect(second?.errors).toBeUndefined();
      expect(second?.data?.chargePayment).toEqual(first?.data?.chargePayment);
      expect(first?.data?.chargePayment).toMatchObject({ status: 'PAID', amount: 6000 });
      expect(recorder.commands.flat().sort()).toEqual(['find rentals', 'insert rentals', 'insert rentals']);
    } finally {
      release(); // (again, when an expectation failed while they waited)
      recorder.stop();
    }
    // The provider was asked twice (the key makes that safe) and took the money once.
    expect(t.provider.chargesFor(input.reservationId)).toBe(2);
    expect(t.provider.chargedFor(input.reservationId)).toBe(6000);
    expect(t.provider.heldFor(input.reservationId)).toBe(6000);
    expect(await t.db.collection('rentals').countDocuments({ reservationId: input.reservationId })).toBe(1);
    return recorder.commands;
  }

  it('through one API process: nothing is polled while they wait; one insert wins, the other reads once; one payment', async () => {
    await chargeTwiceTogether([(input) => t.charge(input), (input) => t.charge(input)], [t.api]);
  });

  it('through two API processes sharing the database: the same, each process inserting once', async () => {
    const other = await startRentals(t.config, { port: 0, dbName: t.api.dbName, paymentProvider: t.provider });
    try {
      const viaOther = (input: Record<string, unknown>) =>
        callSubgraph<{ chargePayment: Payment }>(other.url, t.config.INTERNAL_JWT_SECRET, CHARGE, { input }, as.service);
      const commands = await chargeTwiceTogether([(input) => t.charge(input), viaOther], [t.api, other]);
      for (const perProcess of commands) expect(perProcess.filter((c) => c === 'insert rentals')).toHaveLength(1);
    } finally {
      await other.stop();
    }
  });
});

describe('a refund interrupted after its cancel', () => {
  it('leaves CANCELLED + PAID (money owed back); the next refund call gives it back at once', async () => {
    const input = chargeInput();
    const charged = await t.charge(input);
    t.provider.failNextRefunds(1);
    const failed = await t.refund(input.reservationId);
    expect(failed.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(await t.rentalOf(input.reservationId)).toMatchObject({ status: 'CANCELLED', payment: { status: 'PAID' } });
    expect(t.provider.heldFor(input.reservationId)).toBe(6000);

    const retry = await t.refund(input.reservationId);
    expect(retry.data?.refundPayment).toMatchObject({ status: 'REFUNDED', id: charged.data?.chargePayment.id });
    expect(t.provider.heldFor(input.reservationId)).toBe(0);
    expect(t.provider.givenBackFor(input.reservationId)).toBe(6000);
  });
});

describe('stored documents', () => {
  it('match the schema: paid, declined, refunded, void marker, late charge on a marker', async () => {
    const paid = chargeInput();
    const declined = chargeInput({ paymentToken: 'tok_decline' });
    const refunded = chargeInput();
    const voided = chargeInput();
    const late = chargeInput();
    await t.charge(paid);
    await t.charge(declined);
    await t.charge(refunded);
    await t.refund(refunded.reservationId);
    await t.refund(voided.reservationId);
    await t.refund(late.reservationId);
    await t.charge(late);

    const Rental = rentalModel(t.db);
    for (const { reservationId } of [paid, declined, refunded, voided, late]) {
      const raw = await rawDoc(reservationId);
      expect(raw).not.toBeNull();
      expect(new Rental(raw).validateSync()).toBeUndefined();
    }
    expect((await rawDoc(paid.reservationId))?.payment).toMatchObject({ status: 'PAID', amount: 6000, providerRef: expect.any(String) });
    expect(await rawDoc(voided.reservationId)).toMatchObject({ status: 'CANCELLED', payment: { status: 'VOIDED' } });
    expect(await rawDoc(late.reservationId)).toMatchObject({
      status: 'CANCELLED',
      customerId: 'carol',
      payment: { status: 'REFUNDED', amount: 6000, refundRef: expect.any(String) },
    });
    // A charged rental without its customer is not valid; a marker needs none.
    expect(new Rental({ ...(await rawDoc(paid.reservationId)), customerId: undefined }).validateSync()?.errors).toHaveProperty('customerId');
  });
});
