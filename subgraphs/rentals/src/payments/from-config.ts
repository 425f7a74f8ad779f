/**
 * Which payment provider rentals charges through, chosen by
 * `PAYMENT_PROVIDER` at start-up (API process and worker alike).
 *
 * Only providers written in this folder can be named: today `sandbox`
 * ({@link SandboxPaymentProvider}), which moves no money. A real provider is
 * added by implementing {@link PaymentProvider} (`provider.ts` says what it
 * must do), adding its name to {@link PAYMENT_PROVIDERS} and its constructor
 * to `PROVIDERS` below, with whatever settings it needs in `config.ts`.
 *
 * Production (`NODE_ENV=production`) refuses to start on the sandbox unless
 * `ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION=true` says so explicitly: with the
 * sandbox, any customer pays for any reservation with `tok_approve` and no
 * money is ever taken.
 */
import { ConfigError } from '@rental/config';
import type { RentalsConfig } from '../config.js';
import type { PaymentProvider } from './provider.js';
import { SandboxPaymentProvider } from './sandbox.js';

/** The values `PAYMENT_PROVIDER` accepts: the providers that exist in code. */
export const PAYMENT_PROVIDERS = ['sandbox'] as const;
export type PaymentProviderName = (typeof PAYMENT_PROVIDERS)[number];

/** How each named provider is built. */
const PROVIDERS: Record<PaymentProviderName, () => PaymentProvider> = {
  sandbox: () => new SandboxPaymentProvider(),
};

/** The provider `PAYMENT_PROVIDER` names; a {@link ConfigError} for the sandbox in production without the allow flag. */
export function paymentProviderFromConfig(
  config: Pick<RentalsConfig, 'NODE_ENV' | 'PAYMENT_PROVIDER' | 'ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION'>,
): PaymentProvider {
  if (config.PAYMENT_PROVIDER === 'sandbox' && config.NODE_ENV === 'production' && !config.ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION) {
    throw new ConfigError([
      'PAYMENT_PROVIDER: production refuses the sandbox payment provider, which moves no money (any customer pays with tok_approve); set ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION=true to run it knowingly',
    ]);
  }
  return PROVIDERS[config.PAYMENT_PROVIDER]();
}
