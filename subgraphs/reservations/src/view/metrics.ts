/**
 * Customer view metrics, in the shared registry (`/metrics`):
 * - `reservations_view_push_seconds`: from a view change's write
 *   (`updatedAt`) to a `reservationStatus` stream handing that live change
 *   to its socket, once per subscriber. Replayed changes are left out (they
 *   are old on purpose). With the router's `router_subscription_event_seconds`
 *   and the client's own clock it splits the push into its legs.
 */
import { metrics, prom } from '@rental/observability';

const NAME = 'reservations_view_push_seconds';

/** `reservations_view_push_seconds` (see the module comment). */
export const viewPushDelay: prom.Histogram =
  (metrics.getSingleMetric(NAME) as prom.Histogram | undefined) ??
  new prom.Histogram({
    name: NAME,
    help: "Time from a customer view change's write to a reservationStatus stream handing it (live) to its socket, per subscriber",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });
