/**
 * `chargePayment`: one insert, no read.
 *
 * The provider's `reference` (the reservation id) is an idempotency key: a
 * repeated charge returns the first answer and moves no money twice, and a
 * refund gives back what was charged under it (`payments/provider.ts`). So
 * rentals need not lock before it calls the provider; the record is written
 * once, after the answer:
 * 1. Validate (ids, amount, quantity, token shape, token known to the provider).
 *    Nothing is written for bad input.
 * 2. `provider.charge({ reference: reservationId })` with an AbortSignal and a
 *    timeout of `PAYMENT_PROVIDER_TIMEOUT_MS`; no answer in time (or a
 *    provider error) is the outcome `FAILED` (`provider-calls.ts`).
 * 3. ONE insert of the complete rental with that outcome, `_id =
 *    rentalIdFor(reservationId)`: PAID → rental `AWAITING_PICKUP`; DECLINED or
 *    FAILED → rental `CANCELLED`. The answer is the inserted document. That is
 *    the whole normal path: one write, no read.
 * 4. Only when the insert fails on `_id` (a saga retry, a concurrent
 *    duplicate, a charge later than a refund) is the record read, and
 *    answered after {@link duplicateChargeSteps}:
 *    - `PAID`/`REFUNDED`: answered as it is (this attempt moved no money);
 *    - `DECLINED`/`FAILED` while this attempt got `PAID` (the first attempt
 *      gave up, the provider charged after all): the money is given back,
 *      the record answered;
 *    - `VOIDED` (a refund came first, `refund.ts`): a `PAID` answer is given
 *      back at the provider, then ONE conditional update records the charge
 *      on the marker (`REFUNDED`, or the decline/failure) and that is the
 *      answer. If the provider does not confirm the give-back:
 *      `SERVICE_UNAVAILABLE`, the marker stays, and any later charge or
 *      refund of the reservation gives the money back.
 *
 * ## Duplicates in flight together: nobody waits
 * Two charges of one reservation at once (the saga retrying a charge its
 * own timeout gave up on while the first still waits at the provider; the
 * two may reach one rentals process or two) both ask the provider, which
 * answers the second with the first's answer and moves the money once; the
 * first insert wins, the other reads the record once (step 4) and answers
 * it. There is no in-flight state, no lease, nothing to wait for or poll,
 * so no signal between processes (Redis pub/sub, a change stream) is
 * needed. (Until 13a8db0 a `PROCESSING` lease made a duplicate poll the
 * database every 20 ms; the idempotency key replaced it.) A per-process map
 * of charges in flight would spare such a duplicate its provider call, its
 * refused insert and its read, but only when both land on one process, and
 * at the price of a second path through this protocol; it is not kept.
 * `charge-protocol.test.ts` pins the behaviour: duplicates held at the
 * provider together, through one API process and through two, send no
 * database command while they wait and answer one payment.
 *
 * ## Crashes
 * - Before the provider call: nothing happened; the saga's compensating
 *   refund leaves a marker and a void that moves nothing.
 * - After the provider charged, before the insert: the compensating refund's
 *   void (by reference) gives the money back; a later retry of the charge
 *   meets the marker and answers `REFUNDED`.
 * - Not covered here: a charge the provider executes only after the charging
 *   process died and after the compensating void, or a late charger dying
 *   between its `PAID` answer and its give-back. Rentals never learns of
 *   such a charge; only a reconciliation against the provider's records can.
 */
import { badInput } from '@rental/errors';
import { CURRENCY, duplicateChargeSteps, parsePaymentToken, validateAmount, validateQuantity } from './domain/index.js';
import { requireId } from './domain/ids.js';
import { chargedRental, isVoidMarker, type ChargeOutcome, type NewCharge, type RentalDoc } from './data/index.js';
import type { RentalsDeps } from './deps.js';
import { chargeAtProvider, refundAtProvider } from './provider-calls.js';
import type { ChargePaymentInput } from './generated/graphql.js';

/** What the saga sends to charge a reservation: `ChargePaymentInput`, generated from this subgraph's schema. */
export type ChargeInput = ChargePaymentInput;

/** `chargePayment`: the rental with its payment as recorded (see the module comment). */
export async function chargePayment(deps: RentalsDeps, input: ChargeInput): Promise<RentalDoc> {
  const charge: NewCharge = {
    reservationId: requireId('reservationId', input.reservationId),
    customerId: requireId('customerId', input.customerId),
    storeId: requireId('storeId', input.storeId),
    itemId: requireId('itemId', input.itemId),
    quantity: validateQuantity(input.quantity),
    amount: validateAmount(input.amount),
    currency: CURRENCY,
    provider: deps.provider.name,
  };
  const token = parsePaymentToken(input.paymentToken);
  if (!deps.provider.supportsToken(token)) throw badInput('paymentToken', 'is not a known payment token');

  const outcome = await chargeAtProvider(deps, charge, token);
  const rental = chargedRental(charge, outcome);
  if (await deps.data.insertRental(rental)) {
    deps.logger.info(
      { reservationId: charge.reservationId, rentalId: rental._id, status: outcome.status, amount: charge.amount },
      'payment charged',
    );
    return rental;
  }
  return answerRecorded(deps, rental, outcome);
}

/**
 * A charge whose insert failed on `_id`: the reservation already has its
 * record. Reads it, gives back money the record does not account for, and
 * answers the record (a late charge on a void marker records itself first).
 */
async function answerRecorded(deps: RentalsDeps, attempt: RentalDoc, outcome: ChargeOutcome): Promise<RentalDoc> {
  const { data, logger } = deps;
  const { reservationId } = attempt;
  const recorded = await data.findById(attempt._id);
  if (!recorded) throw new Error(`rental ${attempt._id} refused a second insert but cannot be read`);
  const steps = duplicateChargeSteps(recorded.payment.status, outcome.status);
  let refundRef: string | null = null;
  if (steps.giveBack) {
    logger.warn({ reservationId, recorded: recorded.payment.status }, 'provider charged a reservation recorded as not paid; giving the money back');
    refundRef = await refundAtProvider(deps, {
      reference: reservationId,
      providerRef: outcome.providerRef,
      amount: attempt.payment.amount,
      currency: attempt.payment.currency,
    });
  }
  if (isVoidMarker(recorded)) {
    const late = steps.recordOnVoid && (await data.recordLateCharge(recorded._id, attempt, steps.recordOnVoid, refundRef));
    if (late) logger.info({ reservationId, status: late.payment.status }, 'late charge after a refund recorded');
    // Null: a concurrent late duplicate recorded it first; answer that.
    return late || data.findRecorded(recorded._id);
  }
  if (recorded.payment.amount !== attempt.payment.amount || recorded.customerId !== attempt.customerId) {
    logger.warn({ reservationId }, 'repeated charge differs from the first; answering the first');
  }
  return recorded;
}
