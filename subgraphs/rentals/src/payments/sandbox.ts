/**
 * The sandbox payment provider: no money moves, the token decides the answer.
 *
 * | token         | answer                                                        |
 * |---------------|---------------------------------------------------------------|
 * | `tok_approve` | `PAID`                                                        |
 * | `tok_decline` | `DECLINED`, reason "card declined"                            |
 * | `tok_timeout` | never answers; the promise settles only when the call is aborted |
 *
 * Any other token is unknown (`supportsToken` is false). Refunds (and voids:
 * refunds of a reference with no recorded charge) always succeed. Provider
 * references are derived from the reference, so a repeated call with the
 * same reference gets the same answer, as a real provider's idempotency key
 * would give.
 */
import type { ChargeRequest, ChargeResult, PaymentProvider, RefundRequest, RefundResult } from './provider.js';

export const SANDBOX_TOKENS = {
  approve: 'tok_approve',
  decline: 'tok_decline',
  timeout: 'tok_timeout',
} as const;

const KNOWN = new Set<string>(Object.values(SANDBOX_TOKENS));

/** Why `signal` aborted, as an Error (callWithTimeout aborts with one; any other reason is wrapped). */
function reasonOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/** Rejects when `signal` aborts; never resolves. Holds no timer, so it keeps nothing alive. */
function never(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (!signal) return;
    if (signal.aborted) {
      reject(reasonOf(signal));
      return;
    }
    signal.addEventListener('abort', () => reject(reasonOf(signal)), { once: true });
  });
}

function abortedError(signal: AbortSignal | undefined): Error | undefined {
  return signal?.aborted ? reasonOf(signal) : undefined;
}

export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = 'sandbox';

  supportsToken(token: string): boolean {
    return KNOWN.has(token);
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const aborted = abortedError(request.signal);
    if (aborted) throw aborted;
    switch (request.token) {
      case SANDBOX_TOKENS.approve:
        return { status: 'PAID', providerRef: `sbx_ch_${request.reference}` };
      case SANDBOX_TOKENS.decline:
        return { status: 'DECLINED', providerRef: `sbx_ch_${request.reference}`, reason: 'card declined' };
      case SANDBOX_TOKENS.timeout:
        return never(request.signal);
      default:
        throw new Error(`sandbox: unknown token`);
    }
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    const aborted = abortedError(request.signal);
    if (aborted) throw aborted;
    return { status: 'REFUNDED', providerRef: `sbx_re_${request.reference}` };
  }
}
