/**
 * Logs and metrics shared by every process: pino JSON logs with the request
 * and correlation ids, and one prom-client registry served on `/metrics`.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import client from 'prom-client';

export type { Logger };

/** Creates the process logger: JSON lines on stdout, `service` on every line. */
export function createLogger(service: string, level: LoggerOptions['level'] = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'authorization', 'paymentToken'], censor: '[redacted]' },
  });
}

/** The process-wide metrics registry, with Node's default metrics. */
export const metrics = new client.Registry();
client.collectDefaultMetrics({ register: metrics });

/** Requests handled, by operation name and outcome code. */
export const requestCounter = new client.Counter({
  name: 'graphql_requests_total',
  help: 'GraphQL operations handled, by operation and error code (OK when none)',
  labelNames: ['service', 'operation', 'code'] as const,
  registers: [metrics],
});

/** Request latency per operation, in seconds. */
export const requestDuration = new client.Histogram({
  name: 'graphql_request_duration_seconds',
  help: 'GraphQL operation latency in seconds',
  labelNames: ['service', 'operation'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metrics],
});

/** GraphQL errors answered, by `extensions.code` (router and subgraphs). */
export const errorCounter =
  (metrics.getSingleMetric('graphql_errors_total') as client.Counter<'service' | 'code'> | undefined) ??
  new client.Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors answered, by service and code',
    labelNames: ['service', 'code'] as const,
    registers: [metrics],
  });

export { client as prom };
export { onShutdownSignals } from './shutdown.js';
export { EventLoopWatch } from './event-loop.js';
