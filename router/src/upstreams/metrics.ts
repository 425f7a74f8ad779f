/** Metrics of the multi-URL subgraph pools (shared registry, served on `/metrics`). */
import { metrics, prom } from '@rental/observability';

function once<M>(name: string, make: () => M): M {
  return (metrics.getSingleMetric(name) as M | undefined) ?? make();
}

/** 1 while a subgraph URL is used, 0 while it is skipped (refused a connection, or not ready). */
export const upstreamUp = once(
  'router_subgraph_url_up',
  () =>
    new prom.Gauge({
      name: 'router_subgraph_url_up',
      help: 'Subgraph URL in use (1) or skipped after a refused connection or failed readiness check (0)',
      labelNames: ['subgraph', 'url'] as const,
      registers: [metrics],
    }),
);

/** Subgraph fetches sent again to another URL after a connection failure (queries only). */
export const upstreamRetries = once(
  'router_subgraph_retries_total',
  () =>
    new prom.Counter({
      name: 'router_subgraph_retries_total',
      help: 'Subgraph fetches (queries) retried on another URL after the connection was refused or reset',
      labelNames: ['subgraph', 'reason'] as const,
      registers: [metrics],
    }),
);

/** Subgraph queries answered by an identical one already in flight (dedupe.ts): fetches not sent. */
export const upstreamDeduplicated = once(
  'router_subgraph_deduplicated_total',
  () =>
    new prom.Counter({
      name: 'router_subgraph_deduplicated_total',
      help: 'Subgraph queries answered by an identical query of the same identity already in flight',
      labelNames: ['subgraph'] as const,
      registers: [metrics],
    }),
);
