/**
 * What every rentals use case (charge, refund, hand-over and return, the
 * event handlers) is given: one set, built once per process in `runtime.ts`.
 */
import type { OutboxRelay } from '@rental/events';
import type { Logger } from '@rental/observability';
import type { RentalsData } from './data/index.js';
import type { PaymentProvider } from './payments/index.js';

/** The use cases' dependencies. */
export interface RentalsDeps {
  data: RentalsData;
  provider: PaymentProvider;
  /** `PAYMENT_PROVIDER_TIMEOUT_MS`: how long a charge or refund waits for the provider. */
  providerTimeoutMs: number;
  /** The shared outbox relay: publishes a rental's outbox right after its write. */
  relay?: OutboxRelay;
  logger: Logger;
}
