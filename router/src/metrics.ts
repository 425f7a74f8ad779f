/**
 * Router metrics, registered in the shared process registry served on
 * `/metrics`: operations by name and outcome code, their latency, errors by
 * code, and subgraph fetches by subgraph and outcome.
 */
import { metrics, prom, requestCounter, requestDuration } from '@rental/observability';

export { metrics, requestCounter, requestDuration };

export const SERVICE = 'router';

function counter<T extends string>(name: string, help: string, labelNames: readonly T[]): prom.Counter<T> {
  const existing = metrics.getSingleMetric(name);
  if (existing) return existing as prom.Counter<T>;
  return new prom.Counter({ name, help, labelNames, registers: [metrics] });
}

function histogram<T extends string>(name: string, help: string, labelNames: readonly T[]): prom.Histogram<T> {
  const existing = metrics.getSingleMetric(name);
  if (existing) return existing as prom.Histogram<T>;
  return new prom.Histogram({
    name,
    help,
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });
}

/** Every error answered, by `extensions.code`. */
export const errorCounter = counter('graphql_errors_total', 'GraphQL errors answered, by service and code', [
  'service',
  'code',
] as const);

/** Subgraph fetches made by the router. */
export const subgraphFetchDuration = histogram(
  'router_subgraph_fetch_duration_seconds',
  'Latency of router fetches to subgraphs, by subgraph and outcome (ok or error)',
  ['subgraph', 'outcome'] as const,
);

/**
 * The router's own part of a subscription event: from the subgraph's `next`
 * message arriving on the upstream socket to the result (resolved across the
 * other subgraphs) being handed to the client's socket. Waiting behind the
 * same subscription's previous event counts; a slow client's unread buffer
 * does not.
 */
export const subscriptionEventDuration = histogram(
  'router_subscription_event_seconds',
  'Time from a subgraph subscription message arriving to its result being handed to the client socket',
  [] as const,
);

/** Subscriptions currently open through the router (all connections). */
export const subscriptionsOpen = ((): prom.Gauge<'service'> => {
  const name = 'graphql_subscriptions_open';
  const existing = metrics.getSingleMetric(name);
  if (existing) return existing as prom.Gauge<'service'>;
  return new prom.Gauge({ name, help: 'GraphQL subscriptions open, by service', labelNames: ['service'] as const, registers: [metrics] });
})();

/** WebSockets closed 1013 because a subscription's client read too slowly (subscriptions/server.ts). */
export const slowConsumersClosed = counter(
  'router_ws_slow_consumers_closed_total',
  'WebSockets closed with 1013 because a subscription held WS_MAX_BUFFERED_MESSAGES unread results',
  [] as const,
);

/** Subscriptions that opened an upstream stream, and those that joined one of the same caller's identical ones (subscriptions/shared-upstream.ts). */
export const sharedUpstreamJoins = counter(
  'router_subscription_upstreams_total',
  "Shareable subscriptions that opened an upstream subscription (opened) or joined the same caller's identical one (joined)",
  ['outcome'] as const,
);

/** Subscription events executed, and those answered by an identical execution (subscriptions/shared-execution.ts). */
export const sharedEventExecutions = counter(
  'router_subscription_event_executions_total',
  'Subscription events resolved across subgraphs (executed) or answered by an identical execution for another subscriber (shared)',
  ['outcome'] as const,
);
