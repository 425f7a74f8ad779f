/**
 * Queue depth per consumer queue, for `/metrics` and health pages: a growing
 * `waiting` count means a consumer is down or slow; a non-zero `failed` count
 * means events that need a human.
 */
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

/** Job counts of every consumer queue, keyed by queue name (`stores-events`, …). */
export async function queueDepth(bus: EventBus): Promise<Record<string, QueueDepth>> {
  const entries = await Promise.all(
    consumingSubgraphs.map(async (subgraph) => {
      const counts = await bus.queue(subgraph).getJobCounts('waiting', 'paused', 'active', 'delayed', 'failed');
      const depth: QueueDepth = {
        waiting: (counts.waiting ?? 0) + (counts.paused ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
      };
      return [queueName(subgraph), depth] as const;
    }),
  );
  return Object.fromEntries(entries);
}
