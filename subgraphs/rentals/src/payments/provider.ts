/**
 * The payment provider seam. The rentals subgraph never talks to a card
 * network itself: it asks a {@link PaymentProvider}, the one `PAYMENT_PROVIDER`
 * names (`from-config.ts`). The only one built in is the sandbox
 * ({@link SandboxPaymentProvider}), which moves no money; a real provider
 * (a card processor's API) implements this same interface.
 *
 * Contract for implementations:
 * - `reference` is the idempotency key: the reservation id. A provider must
 *   answer a repeated `charge` with the same reference with the first result
 *   and move money at most once (pass it as the processor's idempotency key;
 *   real processors offer one for exactly this). Rentals relies on it on
 *   every repeated charge: a saga retry or a concurrent duplicate calls the
 *   provider again before it learns (from its refused insert) that the
 *   charge is already recorded. That includes a duplicate arriving while
 *   the first is still in flight at the processor: one that refuses a key
 *   in use (some answer HTTP 409) must be asked again within the signal,
 *   not turned into a rejection, which rentals would record `FAILED` and
 *   answer as a decline (the first charge's money then goes back).
 * - `refund` gives back what was charged under `reference` and not given back
 *   yet, so a repeated refund moves no money twice. A refund when nothing was
 *   charged (yet) moves nothing and still answers `REFUNDED` (a void):
 *   rentals voids a reservation whose charge it never recorded, and refunds
 *   again if that charge arrives after all. Concurrent refunds of one
 *   reference are allowed; one of them gives the money back.
 * - Outcomes: a declined card is an answer (`status: 'DECLINED'` with the
 *   processor's reason), not an exception; rentals records it `DECLINED`
 *   (the reservation ends `PAYMENT_FAILED`). An exception means "no answer"
 *   (network, processor outage, a 5xx, an unreadable response): rentals
 *   records a charge `FAILED` ("payment provider error") and answers a
 *   refund `SERVICE_UNAVAILABLE` (retried later; the record still says the
 *   money is owed). A token the provider cannot use at all belongs in
 *   `supportsToken` (→ `BAD_USER_INPUT` on `paymentToken`, nothing charged).
 * - Timeouts are rentals' job: every call gets a `signal` that aborts after
 *   `PAYMENT_PROVIDER_TIMEOUT_MS`, and rentals stops waiting then (a charge
 *   is recorded `FAILED`, "payment provider timed out"). An implementation
 *   must pass the signal to its HTTP client, stop waiting, release whatever
 *   it holds (timers, sockets, listeners) and reject; it must not retry past
 *   the signal. A charge the processor completes after rentals gave up is
 *   given back only when a later call of the reservation reaches the
 *   processor with the same key (`charge.ts`, "Crashes"); otherwise only a
 *   reconciliation against the processor's records finds it.
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

/** What rentals needs from a payment provider; see the contract above. */
export interface PaymentProvider {
  /** A short name for logs and the payment record (`sandbox`). */
  readonly name: string;
  /** False when the provider does not know this token (the API answers `BAD_USER_INPUT`, nothing is charged). */
  supportsToken(token: string): boolean;
  /**
   * Charges `amount` under the idempotency key `reference`: `PAID` or
   * `DECLINED` (an answer); a repeat answers the first result. Rejects when
   * there is no answer, or when `signal` aborts.
   */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * Gives back what is held under `reference` (nothing for a void) and
   * answers `REFUNDED`; a repeat moves nothing. Rejects when there is no
   * answer, or when `signal` aborts.
   */
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
