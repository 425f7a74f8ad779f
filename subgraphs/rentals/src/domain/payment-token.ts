/**
 * Payment tokens: opaque strings a payment provider issued for a card, as
 * `tok_<letters digits _>`. This checks the shape only; whether the provider
 * knows the token is the provider's call (`PaymentProvider.supportsToken`).
 */
import { badInput } from '@rental/errors';

const TOKEN_SHAPE = /^tok_[A-Za-z0-9_]{1,96}$/;

/** The trimmed token, or `BAD_USER_INPUT` on `paymentToken` when it is not token-shaped. */
export function parsePaymentToken(raw: string, field = 'paymentToken'): string {
  const token = typeof raw === 'string' ? raw.trim() : '';
  if (token.length === 0) throw badInput(field, 'is required');
  if (!TOKEN_SHAPE.test(token)) throw badInput(field, 'is not a payment token (expected tok_…)');
  return token;
}
