/**
 * The payment provider's calls as the use cases make them: each aborted
 * after `PAYMENT_PROVIDER_TIMEOUT_MS` (`callWithTimeout` gives the provider
 * an AbortSignal), and each failure turned into what rentals records or
 * answers. The reservation id is the `reference` of every call: the
 * provider's idempotency key (`payments/provider.ts`), so calling again is
 * always safe and moves no money twice.
 */
import { DomainError } from '@rental/errors';
import { CURRENCY, PROVIDER_ERROR_REASON, TIMEOUT_REASON } from './domain/index.js';
import type { ChargeOutcome, NewCharge } from './data/index.js';
import { ProviderTimeoutError, callWithTimeout, type RefundRequest } from './payments/index.js';
import type { RentalsDeps } from './deps.js';

/**
 * The provider's answer to a charge. No answer in time, or a provider
 * error, is the outcome `FAILED`: recorded like a decline (the customer is
 * told the payment was not completed), never thrown.
 */
export async function chargeAtProvider(deps: RentalsDeps, charge: NewCharge, token: string): Promise<ChargeOutcome> {
  const { provider, providerTimeoutMs, logger } = deps;
  const { reservationId } = charge;
  try {
    const answer = await callWithTimeout(providerTimeoutMs, (signal) =>
      provider.charge({ reference: reservationId, amount: charge.amount, currency: charge.currency, token, signal }),
    );
    return { status: answer.status, reason: answer.status === 'PAID' ? null : (answer.reason ?? 'declined'), providerRef: answer.providerRef };
  } catch (err) {
    if (err instanceof ProviderTimeoutError) {
      logger.warn({ reservationId, timeoutMs: providerTimeoutMs }, 'payment provider timed out');
      return { status: 'FAILED', reason: TIMEOUT_REASON, providerRef: null };
    }
    logger.error({ err, reservationId }, 'payment provider error');
    return { status: 'FAILED', reason: PROVIDER_ERROR_REASON, providerRef: null };
  }
}

/**
 * The provider's refund; its refund id. When the provider does not confirm:
 * `SERVICE_UNAVAILABLE`, and the record keeps saying the money is owed
 * back, so a retry (saga, consumer) gives it back.
 */
export async function refundAtProvider(deps: RentalsDeps, request: Omit<RefundRequest, 'signal'>): Promise<string> {
  try {
    const answer = await callWithTimeout(deps.providerTimeoutMs, (signal) => deps.provider.refund({ ...request, signal }));
    return answer.providerRef;
  } catch (err) {
    deps.logger.error({ err, reservationId: request.reference }, 'refund failed at the provider');
    throw new DomainError('SERVICE_UNAVAILABLE', 'payment provider did not confirm the refund; try again', { retryAfterSeconds: 1 });
  }
}

/** Voids the reservation at the provider: gives back whatever was charged under it, if anything. */
export async function voidAtProvider(deps: RentalsDeps, reservationId: string): Promise<void> {
  await refundAtProvider(deps, { reference: reservationId, providerRef: null, amount: null, currency: CURRENCY });
}
