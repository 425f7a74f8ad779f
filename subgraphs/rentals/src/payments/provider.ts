/**
 * The payment provider seam. The rentals subgraph never talks to a card
 * network itself: it asks a {@link PaymentProvider}. The built-in one is the
 * sandbox ({@link SandboxPaymentProvider}); a real provider (Stripe, Adyen, …)
 * would implement the same interface.
 *
 * Contract for implementations:
 * - `reference` is the idempotency key: the reservation id. A provider must
 *   answer a repeated `charge` with the same reference with the first result
 *   and move money at most once (real providers offer idempotency keys for
 *   exactly this). Rentals relies on it on every repeated charge: a saga
 *   retry or a concurrent duplicate calls the provider again before it learns
 *   (from its refused insert) that the charge is already recorded.
 * - `refund` gives back what was charged under `reference` and not given back
 *   yet, so a repeated refund moves no money twice. A refund when nothing was
 *   charged (yet) moves nothing and still answers `REFUNDED` (a void):
 *   rentals voids a reservation whose charge it never recorded, and refunds
 *   again if that charge arrives after all. Concurrent refunds of one
 *   reference are allowed; one of them gives the money back.
 * - A declined card is an answer (`status: 'DECLINED'`), not an exception.
 *   Exceptions mean "no answer" (network, provider outage).
 * - `signal` aborts the call; an implementation must stop waiting, release
 *   whatever it holds (timers, sockets, listeners) and reject.
 */

export interface ChargeRequest {
  /** Idempotency key: the reservation id. */
  reference: string;
  /** Minor units (integer). */
  amount: number;
  currency: string;
  /** The card token the customer's client obtained from the provider. */
  token: string;
  signal?: AbortSignal;
}

export interface ChargeResult {
  status: 'PAID' | 'DECLINED';
  /** The provider's id of the charge (or of the declined attempt). */
  providerRef: string;
  /** Why it was declined, in the provider's words. */
  reason?: string;
}

export interface RefundRequest {
  /** Idempotency key: the reservation id; the refund gives back what was charged under it. */
  reference: string;
  /** The `providerRef` of the charge being refunded; `null` for a void (no charge was recorded). */
  providerRef: string | null;
  /** Minor units: the charged amount; `null` for a void (whatever was charged under `reference`). */
  amount: number | null;
  currency: string;
  signal?: AbortSignal;
}

export interface RefundResult {
  status: 'REFUNDED';
  providerRef: string;
}

export interface PaymentProvider {
  /** A short name for logs and the payment record. */
  readonly name: string;
  /** False when the provider does not know this token (the API answers `BAD_USER_INPUT`). */
  supportsToken(token: string): boolean;
  charge(request: ChargeRequest): Promise<ChargeResult>;
  refund(request: RefundRequest): Promise<RefundResult>;
}

/** Thrown by {@link callWithTimeout} when the provider did not answer in time. */
export class ProviderTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`payment provider did not answer within ${timeoutMs} ms`);
    this.name = 'ProviderTimeoutError';
  }
}

/**
 * Runs `call` with an AbortSignal that fires after `timeoutMs`, and rejects
 * with {@link ProviderTimeoutError} at that moment even if the provider
 * ignores the signal. The timer and the abort listener are always cleaned up,
 * so a provider that never answers leaves nothing behind but its own promise.
 */
export async function callWithTimeout<T>(timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new ProviderTimeoutError(timeoutMs));
      reject(new ProviderTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    const pending = call(controller.signal);
    // A provider that rejects after we gave up must not cause an unhandled rejection.
    pending.catch(() => undefined);
    return await Promise.race([pending, timedOut]);
  } finally {
    clearTimeout(timer);
    if (!controller.signal.aborted) controller.abort(new Error('call finished'));
  }
}
