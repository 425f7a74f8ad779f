/**
 * The producer side of the event bus: puts a domain event on the BullMQ queue
 * of every subgraph that consumes it.
 *
 * Delivery protocol (docs/ARCHITECTURE.md, "Events"):
 * - One job per consuming queue, job name = event type, job id = eventId.
 *   BullMQ ignores an `add` whose job id already exists in the queue (waiting,
 *   active, delayed, completed or failed), so publishing the same event again,
 *   as the outbox relay does after a crash, adds nothing. Completed jobs are
 *   kept for a day (at most 10 000 per queue); that is the dedupe window.
 *   Outside it a repeat is delivered again and the consumer's idempotency
 *   (`processedEvents`) absorbs it: delivery is at least once.
 * - A job is retried `attempts` times with exponential backoff
 *   (backoffMs, 2×, 4×, …). After the last attempt it stays in the failed set
 *   (`removeOnFail: false`) where an operator can see and retry it.
 * - While Redis is unreachable BullMQ waits for it indefinitely. `publish`
 *   gives up after `publishTimeoutMs` instead, so a caller (a request, the
 *   relay's sweep, a shutdown) is never stuck; the abandoned `add` may still
 *   land when Redis comes back, which the job-id dedupe makes harmless.
 * - Publishing to several queues is not atomic. If one `add` fails, `publish`
 *   rejects; the caller (the outbox relay) keeps the event and publishes it
 *   again later, and the queues that already got it drop the repeat.
 */
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger, type Logger } from '@rental/observability';
import { parseEvent, type DomainEvent } from './catalog.js';
import { queueDepth, registerQueueDepth } from './metrics.js';
import { consumersOf, consumingSubgraphs, queueName, type ConsumingSubgraph } from './routing.js';

/** How jobs are retried; tests shorten the backoff. */
export interface RetryPolicy {
  /** Total tries of a job, the first included. Default 8. */
  attempts?: number;
  /** First retry delay in ms; each later retry doubles it. Default 1000 (8 attempts ≈ 2 min in all). */
  backoffMs?: number;
}

/** Options of {@link EventBus}. */
export interface EventBusOptions extends RetryPolicy {
  /** `REDIS_URL`; ignored when `connection` is given. */
  redisUrl?: string;
  /** An ioredis connection to reuse instead of opening one; the bus then does not close it. */
  connection?: Redis;
  /** `QUEUE_PREFIX`: the BullMQ key prefix, so deployments and test runs can share one Redis. */
  prefix: string;
  logger?: Logger;
  /** How long `publish` waits for Redis before rejecting. Default 5000 ms. */
  publishTimeoutMs?: number;
}

/** Seconds a completed job is kept (the dedupe window of a repeated eventId). */
export const COMPLETED_JOB_RETENTION_S = 24 * 3600;
/** Completed jobs kept per queue at most, whatever their age. */
export const COMPLETED_JOB_RETENTION_COUNT = 10_000;

/**
 * Publishes domain events to their consumers' queues. One per process: it
 * holds one ioredis connection shared by all its queues.
 */
export class EventBus {
  readonly prefix: string;
  private readonly connection: Redis;
  private readonly ownsConnection: boolean;
  private readonly queues = new Map<ConsumingSubgraph, Queue>();
  private readonly jobOptions: Omit<JobsOptions, 'jobId'>;
  private readonly log: Logger;
  private readonly publishTimeoutMs: number;
  /** Removes this bus's queues from the `event_queue_jobs` gauge. */
  private readonly unregisterDepth: () => void;

  constructor(options: EventBusOptions) {
    this.prefix = options.prefix;
    this.log = options.logger ?? createLogger('events');
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    if (options.connection) {
      this.connection = options.connection;
      this.ownsConnection = false;
    } else {
      if (!options.redisUrl) throw new Error('EventBus: redisUrl or connection is required');
      // A producer should fail within seconds when Redis is gone rather than
      // hang the caller: the outbox keeps the event and the relay retries.
      this.connection = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
      this.ownsConnection = true;
    }
    // Without a listener an ioredis 'error' (e.g. Redis restarting) would crash the process.
    this.connection.on('error', (err) => this.log.warn({ err }, 'event bus: redis connection error'));
    this.jobOptions = {
      attempts: options.attempts ?? 8,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
      removeOnComplete: { age: COMPLETED_JOB_RETENTION_S, count: COMPLETED_JOB_RETENTION_COUNT },
      removeOnFail: false,
    };
    // Producers report the depth of every consumer queue on /metrics (read at scrape time).
    this.unregisterDepth = registerQueueDepth(() => queueDepth(this));
  }

  /** The queue of one consuming subgraph, created on first use. Also used by metrics and tests. */
  queue(subgraph: ConsumingSubgraph): Queue {
    let queue = this.queues.get(subgraph);
    if (!queue) {
      queue = new Queue(queueName(subgraph), { connection: this.connection, prefix: this.prefix });
      queue.on('error', (err) => this.log.warn({ err, queue: queue?.name }, 'event bus: queue error'));
      this.queues.set(subgraph, queue);
    }
    return queue;
  }

  /** Every consuming subgraph's queue. */
  allQueues(): Queue[] {
    return consumingSubgraphs.map((s) => this.queue(s));
  }

  /**
   * Validates `event` and adds it to every consumer queue of its type. Resolves
   * once Redis has accepted every job; rejects (and may have reached some of
   * the queues) otherwise. Safe to call again with the same event.
   */
  async publish(event: DomainEvent): Promise<void> {
    const valid = parseEvent(event);
    const targets = consumersOf(valid.type);
    const adds = Promise.all(
      targets.map((subgraph) => this.queue(subgraph).add(valid.type, valid, { ...this.jobOptions, jobId: valid.eventId })),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`publish of ${valid.type} ${valid.eventId} timed out after ${this.publishTimeoutMs} ms (Redis unreachable?)`)),
        this.publishTimeoutMs,
      );
    });
    adds.catch(() => undefined); // a late failure after the timeout is not an unhandled rejection
    try {
      await Promise.race([adds, timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.log.debug(
      { eventId: valid.eventId, type: valid.type, correlationId: valid.correlationId, requestId: valid.requestId, queues: targets },
      'event published',
    );
  }

  /** Closes the queues, and the connection when the bus opened it. */
  async close(): Promise<void> {
    this.unregisterDepth();
    // BullMQ 5.81 re-emits a failed connection start as an 'error' event from a
    // `.catch` handler; once `close()` has removed every listener that emit
    // throws, and the process sees an unhandled rejection (which crashes Node
    // by default). A queue whose connection never came up holds nothing to
    // flush, so it is dropped rather than closed, keeping our error listener.
    if (this.connection.status === 'ready') await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    if (!this.ownsConnection) return;
    // QUIT would sit in the offline queue of a connection that is not up.
    if (this.connection.status === 'ready') await this.connection.quit().catch(() => this.connection.disconnect());
    else this.connection.disconnect();
  }
}
