/**
 * Payment states. `PROCESSING` is internal: the record exists (it is the lock
 * that makes a charge happen once per reservation) and the provider has not
 * answered yet. The API shows only the final states.
 */
export const PAYMENT_STATES = ['PROCESSING', 'PAID', 'DECLINED', 'FAILED', 'REFUNDED'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];
export type PublicPaymentStatus = Exclude<PaymentState, 'PROCESSING'>;

/** Reason recorded when the provider did not answer within `PAYMENT_PROVIDER_TIMEOUT_MS`. */
export const TIMEOUT_REASON = 'payment provider timed out';
/** Reason recorded when the provider call failed with an error. */
export const PROVIDER_ERROR_REASON = 'payment provider error';

/** True once the provider has answered (or was given up on). */
export function isFinal(state: PaymentState): state is PublicPaymentStatus {
  return state !== 'PROCESSING';
}

/**
 * How long a `PROCESSING` record may sit before another caller may take the
 * charge over (the process that started it died mid-call). Longer than the
 * provider timeout, with room for the database writes around the call.
 */
export function staleProcessingMs(providerTimeoutMs: number): number {
  return providerTimeoutMs * 2 + 5_000;
}
