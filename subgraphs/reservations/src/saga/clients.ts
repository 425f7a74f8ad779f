/** Builds the items and rentals clients from the configuration. */
import { InternalIdentitySigner } from '@rental/auth';
import type { Logger } from '@rental/observability';
import type { ReservationsConfig } from '../config.js';
import { DependencyClient, type BreakerSettings } from './dependency.js';
import { ItemsClient } from './items-client.js';
import { RentalsClient } from './rentals-client.js';

/** The service name: `sub` and issuer of the identity this subgraph calls others with. */
export const SERVICE_NAME = 'reservations';

export interface Dependencies {
  items: ItemsClient;
  rentals: RentalsClient;
  /** The breakers, for metrics, tests and shutdown. */
  breakers: { items: DependencyClient; rentals: DependencyClient };
  shutdown(): void;
}

type ClientConfig = Pick<
  ReservationsConfig,
  | 'INTERNAL_JWT_SECRET'
  | 'ITEMS_URL'
  | 'RENTALS_URL'
  | 'ITEMS_TIMEOUT_MS'
  | 'RENTALS_TIMEOUT_MS'
  | 'CALL_RETRIES'
  | 'CALL_BACKOFF_MS'
  | 'BREAKER_RESET_MS'
  | 'BREAKER_ERROR_THRESHOLD_PCT'
  | 'BREAKER_VOLUME_THRESHOLD'
  | 'BREAKER_ROLLING_MS'
>;

export function createDependencies(config: ClientConfig, logger: Logger): Dependencies {
  const signer = new InternalIdentitySigner(config.INTERNAL_JWT_SECRET, SERVICE_NAME);
  const breaker: BreakerSettings = {
    resetMs: config.BREAKER_RESET_MS,
    errorThresholdPct: config.BREAKER_ERROR_THRESHOLD_PCT,
    volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
    rollingMs: config.BREAKER_ROLLING_MS,
  };
  const common = { retries: config.CALL_RETRIES, backoffMs: config.CALL_BACKOFF_MS, breaker, signer, service: SERVICE_NAME, logger };
  const items = new DependencyClient({ ...common, name: 'items', url: config.ITEMS_URL, timeoutMs: config.ITEMS_TIMEOUT_MS });
  const rentals = new DependencyClient({ ...common, name: 'rentals', url: config.RENTALS_URL, timeoutMs: config.RENTALS_TIMEOUT_MS });
  return {
    items: new ItemsClient(items),
    rentals: new RentalsClient(rentals),
    breakers: { items, rentals },
    shutdown() {
      items.shutdown();
      rentals.shutdown();
    },
  };
}
