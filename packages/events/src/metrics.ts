/**
 * Event metrics, in the shared registry (`/metrics` of every process that
 * produces or consumes events):
 *
 * - `event_queue_jobs{queue,state}`: jobs per consumer queue and state
 *   (`waiting`, `active`, `delayed`, `failed`), read from BullMQ on each
 *   scrape. A growing `waiting` means a consumer is down or slow; a non-zero
 *   `failed` means events that need a human.
 * - `event_lag_seconds{queue,type}`: how long after it happened (`occurredAt`)
 *   an event reached its consumer (observed when the job starts).
 * - `events_handled_total{queue,type,outcome}`: `ok`, `retry` (the attempt
 *   failed, BullMQ tries again), `failed` (for good) and `invalid`.
 *
 * {@link queueDepth} also serves health pages and tests.
 */
import type { Queue } from 'bullmq';
import { metrics, prom } from '@rental/observability';
import type { EventBus } from './bus.js';
import { consumingSubgraphs, queueName } from './routing.js';

/** Job counts of one queue. */
export interface QueueDepth {
  /** Jobs not started yet (BullMQ's `waiting` plus `paused`, when the queue is paused). */
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** Job counts of one BullMQ queue. */
export async function depthOf(queue: Queue): Promise<QueueDepth> {
  const counts = await queue.getJobCounts('waiting', 'paused', 'active', 'delayed', 'failed');
  return {
    waiting: (counts.waiting ?? 0) + (counts.paused ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
  };
}

/** Job counts of every consumer queue, keyed by queue name (`stores-events`, …). */
export async function queueDepth(bus: EventBus): Promise<Record<string, QueueDepth>> {
  const entries = await Promise.all(
    consumingSubgraphs.map(async (subgraph) => [queueName(subgraph), await depthOf(bus.queue(subgraph))] as const),
  );
  return Object.fromEntries(entries);
}

type DepthSource = () => Promise<Record<string, QueueDepth>>;
const depthSources = new Set<DepthSource>();
/** A scrape waits at most this long for Redis. */
const COLLECT_TIMEOUT_MS = 1_000;

function once<M>(name: string, make: () => M): M {
  return (metrics.getSingleMetric(name) as M | undefined) ?? make();
}

/** `event_queue_jobs{queue,state}`, collected from the registered sources on each scrape. */
export const queueJobsGauge = once(
  'event_queue_jobs',
  () =>
    new prom.Gauge({
      name: 'event_queue_jobs',
      help: 'Jobs in each event queue by state (waiting, active, delayed, failed), read from BullMQ at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [metrics],
      async collect() {
        this.reset();
        const results = await Promise.all(
          [...depthSources].map((source) => {
            let timer: NodeJS.Timeout | undefined;
            const timeout = new Promise<undefined>((resolve) => {
              timer = setTimeout(() => resolve(undefined), COLLECT_TIMEOUT_MS);
            });
            return Promise.race([source().catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
          }),
        );
        for (const depths of results) {
          for (const [queue, depth] of Object.entries(depths ?? {})) {
            for (const [state, n] of Object.entries(depth) as Array<[keyof QueueDepth, number]>) this.set({ queue, state }, n);
          }
        }
      },
    }),
);

/** Adds a source of queue depths to `event_queue_jobs`; returns the function that removes it. */
export function registerQueueDepth(source: DepthSource): () => void {
  depthSources.add(source);
  return () => void depthSources.delete(source);
}

/** `event_lag_seconds{queue,type}`: consumer receive time − `occurredAt`. */
export const eventLag = once(
  'event_lag_seconds',
  () =>
    new prom.Histogram({
      name: 'event_lag_seconds',
      help: 'Time from an event occurring (occurredAt) to its consumer receiving it, in seconds',
      labelNames: ['queue', 'type'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers: [metrics],
    }),
);

/** `events_handled_total{queue,type,outcome}`. */
export const eventsHandled = once(
  'events_handled_total',
  () =>
    new prom.Counter({
      name: 'events_handled_total',
      help: 'Event jobs finished by consumers, by queue, type and outcome (ok, retry, failed, invalid)',
      labelNames: ['queue', 'type', 'outcome'] as const,
      registers: [metrics],
    }),
);
