/**
 * The consumer side of the event bus: one BullMQ worker per subgraph, draining
 * its `<subgraph>-events` queue and dispatching each job to the handler of its
 * event type.
 *
 * Protocol and edge cases:
 * - The job data is parsed with the catalog schema first. A job that is not a
 *   valid event (or whose name disagrees with its type) can never succeed, so
 *   it fails at once with BullMQ's `UnrecoverableError`: no retries, kept in
 *   the failed set for a human to look at.
 * - Event types routed to this subgraph that it has no handler for complete
 *   as no-ops, so adding a consumer to the routing table before its handler
 *   ships loses nothing that matters and blocks nothing.
 * - A handler that throws fails the attempt; BullMQ retries it with the
 *   job's exponential backoff and, after the last attempt, keeps it in the
 *   failed set (see `bus.ts`).
 * - Delivery is at least once: a job can run again after a crash mid-handler
 *   (BullMQ's stalled-job check moves it back to waiting), and the outbox may
 *   publish an event twice. Handlers must be idempotent, e.g. one conditional
 *   update guarded by `notProcessed(eventId)` that also does `markProcessed`.
 * - Events are not ordered across types or queues (concurrency, retries).
 *   Handlers move state forward only, and skip events that arrive for a
 *   state already passed.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger, type Logger } from '@rental/observability';
import { InvalidEventError, parseEvent, type EventOf, type EventType } from './catalog.js';
import { depthOf, eventLag, eventsHandled, registerQueueDepth } from './metrics.js';
import { queueName, type ConsumingSubgraph } from './routing.js';

/** What a handler gets besides the event. */
export interface HandlerContext {
  /** A logger bound to the event's id, type, correlation id and request id. */
  log: Logger;
  /** 1 on the first try, 2 on the first retry, … */
  attempt: number;
}

/** Handles one event type; resolve = done, reject = retry later. */
export type EventHandler<T extends EventType> = (event: EventOf<T>, context: HandlerContext) => Promise<void>;

/** The handlers of one subgraph, by event type. Missing types are acknowledged without work. */
export type EventHandlers = { [T in EventType]?: EventHandler<T> };

/** Options of {@link startConsumer}. */
export interface ConsumerOptions {
  subgraph: ConsumingSubgraph;
  /** `REDIS_URL`. The worker opens its own connection (BullMQ needs `maxRetriesPerRequest: null` on it). */
  redisUrl: string;
  /** `QUEUE_PREFIX`, the same as the producers'. */
  prefix: string;
  handlers: EventHandlers;
  /** Jobs handled at once by this process. Default 8. */
  concurrency?: number;
  logger?: Logger;
}

/** A running consumer. */
export interface Consumer {
  readonly worker: Worker;
  /** Stops taking jobs, waits for the active ones to finish, then closes the connection. */
  close(): Promise<void>;
}

/**
 * Starts the worker of `subgraph` and resolves once it is connected and
 * taking jobs. Events that were published while no consumer ran are waiting
 * in the queue and get handled now.
 */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { subgraph, handlers } = options;
  const log = options.logger ?? createLogger(`${subgraph}-events`);
  const queue = queueName(subgraph);
  // Blocking commands (BRPOPLPUSH-like waits) must not give up after N retries.
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (err) => log.warn({ err, queue }, 'event consumer: redis connection error'));

  const handleJob = async (job: Job): Promise<void> => {
    let event;
    try {
      event = parseEvent(job.data);
      if (job.name !== event.type) throw new Error(`job name "${job.name}" does not match event type "${event.type}"`);
    } catch (err) {
      const message = err instanceof InvalidEventError || err instanceof Error ? err.message : String(err);
      log.error({ queue, jobId: job.id, jobName: job.name, err }, 'event consumer: invalid event, failing without retry');
      eventsHandled.inc({ queue, type: job.name, outcome: 'invalid' });
      throw new UnrecoverableError(message);
    }
    // First delivery only: a retry's lag would measure the backoff, not the pipeline.
    if (job.attemptsMade === 0) {
      const occurred = Date.parse(event.occurredAt);
      if (Number.isFinite(occurred)) eventLag.observe({ queue, type: event.type }, Math.max(0, Date.now() - occurred) / 1000);
    }
    const eventLog = log.child({
      queue,
      jobId: job.id,
      eventId: event.eventId,
      type: event.type,
      correlationId: event.correlationId,
      requestId: event.requestId,
    });
    const handler = handlers[event.type] as EventHandler<EventType> | undefined;
    if (!handler) {
      eventLog.debug('event consumer: no handler, acknowledged');
      eventsHandled.inc({ queue, type: event.type, outcome: 'ok' });
      return;
    }
    const attempt = job.attemptsMade + 1;
    const started = Date.now();
    await handler(event, { log: eventLog, attempt });
    eventsHandled.inc({ queue, type: event.type, outcome: 'ok' });
    eventLog.info({ attempt, ms: Date.now() - started }, 'event handled');
  };

  const worker = new Worker(queue, handleJob, {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 8,
  });
  worker.on('error', (err) => log.error({ err, queue }, 'event consumer: worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    const maxAttempts = job.opts.attempts ?? 1;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= maxAttempts;
    const fields = {
      queue,
      jobId: job.id,
      type: job.name,
      correlationId: (job.data as { correlationId?: unknown })?.correlationId,
      requestId: (job.data as { requestId?: unknown })?.requestId,
      attempt: job.attemptsMade,
      maxAttempts,
      err,
    };
    if (!(err instanceof UnrecoverableError)) eventsHandled.inc({ queue, type: job.name, outcome: final ? 'failed' : 'retry' });
    if (final) log.error(fields, 'event handling failed for good; job kept in the failed set');
    else log.warn(fields, 'event handling failed; will retry with backoff');
  });
  await worker.waitUntilReady();
  // Queue depth for /metrics, read at scrape time (the worker's blocking reads use their own connection).
  const counts = new Queue(queue, { connection, prefix: options.prefix });
  counts.on('error', (err) => log.warn({ err, queue }, 'event consumer: queue error'));
  const unregister = registerQueueDepth(async () => ({ [queue]: await depthOf(counts) }));

  return {
    worker,
    async close() {
      unregister();
      await worker.close();
      await counts.close().catch(() => undefined);
      // QUIT would sit in the offline queue of a connection that is not up.
      if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
      else connection.disconnect();
    },
  };
}
