/**
 * Payment states, and what a charge must still do when its record already
 * exists.
 *
 * A payment is recorded once, with the provider's final answer (there is no
 * "in flight" state: the record is written after the provider answered).
 * The API shows `PAID`, `DECLINED`, `FAILED` and `REFUNDED`. `VOIDED` is
 * internal: a refund was asked for before any charge was recorded (the saga
 * gave up on a slow charge, or the charging process died), so the record is a
 * marker that makes a late charge of the reservation give its money back.
 */

export const PAYMENT_STATES = ['PAID', 'DECLINED', 'FAILED', 'REFUNDED', 'VOIDED'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

/** The states the public `PaymentStatus` enum shows (all but `VOIDED`). */
export type PublicPaymentStatus = Exclude<PaymentState, 'VOIDED'>;

/** How one charge attempt ends: the provider's answer, or `FAILED` when it gave none in time. */
export type ChargeStatus = Extract<PaymentState, 'PAID' | 'DECLINED' | 'FAILED'>;

/** Reason recorded when the provider did not answer within `PAYMENT_PROVIDER_TIMEOUT_MS`. */
export const TIMEOUT_REASON = 'payment provider timed out';
/** Reason recorded when the provider call failed with an error. */
export const PROVIDER_ERROR_REASON = 'payment provider error';

/** What a charge whose insert met an existing record must still do before it answers. */
export interface DuplicateChargeSteps {
  /**
   * Give the money back at the provider: this attempt's answer says the
   * provider holds money for the reservation, and the record says none is
   * (or should be) held.
   */
  giveBack: boolean;
  /**
   * The payment status to record on a `VOIDED` marker (the charge is late:
   * the refund came first); `null` when the record stays as it is.
   */
  recordOnVoid: PublicPaymentStatus | null;
}

/**
 * A repeated charge (a saga retry, a concurrent duplicate, a late charge)
 * asked the provider with the same reference, so the provider moved no money
 * twice; but its answer can still tell something the record does not know:
 *
 * - record `VOIDED`: the refund came first; a `PAID` answer is money to give
 *   back, and the record learns the charge (`REFUNDED`, or the decline/failure);
 * - record `DECLINED`/`FAILED` but answer `PAID`: the first attempt gave up
 *   (timeout) and the provider charged after all; that money is given back,
 *   since the saga took the record's "not paid" and moved on;
 * - record `PAID`/`REFUNDED`: the record is the truth; answer it.
 */
export function duplicateChargeSteps(recorded: PaymentState, answered: ChargeStatus): DuplicateChargeSteps {
  switch (recorded) {
    case 'VOIDED':
      return { giveBack: answered === 'PAID', recordOnVoid: answered === 'PAID' ? 'REFUNDED' : answered };
    case 'DECLINED':
    case 'FAILED':
      return { giveBack: answered === 'PAID', recordOnVoid: null };
    case 'PAID':
    case 'REFUNDED':
      return { giveBack: false, recordOnVoid: null };
  }
}
