/**
 * Admission control for expensive writes (cockatiel's bulkhead and timeout
 * policies): at most `concurrency` run at once in this process, at most
 * `queue` wait for a slot, and each waits and runs within its request's
 * deadline.
 *
 * Why: without a bound, a rush of requests all reach the database at once;
 * it saturates, every call slows past its callers' timeouts, breakers open
 * and the rush sells nothing. With one, the work in flight stays within what
 * the database serves quickly, and the rest is told so at once.
 *
 * What a caller gets:
 * - no free slot and a full queue: `TRY_LATER` with `retryAfterSeconds`, at
 *   once; nothing was done. The hint is when the work ahead of it should be
 *   done: what runs and waits now over the rate work finished at in the last
 *   few seconds, never less than the configured hint nor more than
 *   {@link MAX_RETRY_AFTER_SECONDS}. A client that comes back then finds
 *   room, instead of coming back every second to be turned away again (each
 *   refusal costs the server a request too);
 * - still queued when its deadline passes: `TRY_LATER`; nothing was done;
 * - still running at its deadline: `SERVICE_UNAVAILABLE`. The work is not
 *   stopped (it cannot be, half-way through a write); it finishes on its own
 *   and anything it leaves unsettled is settled by the owner's recovery
 *   (e.g. the saga sweeper). Work that watches the deadline itself (the
 *   saga does) rarely gets this far.
 *
 * The queue is a cockatiel bulkhead queue: a waiter whose deadline passed is
 * answered at once, and its queue slot is freed when it reaches the front.
 */
import { BulkheadPolicy, BulkheadRejectedError, TaskCancelledError, TimeoutStrategy, timeout, wrap } from 'cockatiel';
import { DomainError } from '@rental/errors';
import { metrics, prom } from '@rental/observability';

export interface AdmissionOptions {
  /** What is admitted, for messages and metrics (e.g. `createReservation`). */
  name: string;
  /** Runs at once in this process. */
  concurrency: number;
  /** Waiting for a slot at most; the next caller gets TRY_LATER at once. */
  queue: number;
  /** The `retryAfterSeconds` hint of a TRY_LATER. */
  retryAfterSeconds: number;
}

const outcomes = new prom.Counter({
  name: 'admission_total',
  help: 'Work offered to an admission gate, by outcome: admitted, rejected (queue full), expired (deadline while queued), overran (deadline while running)',
  labelNames: ['name', 'outcome'] as const,
  registers: [metrics],
});
const inUse = new prom.Gauge({
  name: 'admission_in_use',
  help: 'Work running (state=running) or waiting (state=queued) at an admission gate',
  labelNames: ['name', 'state'] as const,
  registers: [metrics],
});

/** The longest `retryAfterSeconds` a gate hints. */
export const MAX_RETRY_AFTER_SECONDS = 10;
/** The window over which a gate measures how fast work finishes. */
const RATE_WINDOW_MS = 5_000;

/** One gate; create one per kind of work per process. */
export class Admission {
  private readonly bulkhead: BulkheadPolicy;
  /** When recent work finished (ms), oldest first, within RATE_WINDOW_MS. */
  private readonly finished: number[] = [];

  constructor(readonly options: AdmissionOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error('Admission: concurrency must be a positive integer');
    if (!Number.isInteger(options.queue) || options.queue < 0) throw new Error('Admission: queue must be 0 or more');
    this.bulkhead = new BulkheadPolicy(options.concurrency, options.queue);
    inUse.set({ name: options.name, state: 'running' }, 0);
    inUse.set({ name: options.name, state: 'queued' }, 0);
  }

  /** Running now. */
  get running(): number {
    return this.options.concurrency - this.bulkhead.executionSlots;
  }

  /** Waiting now. */
  get queued(): number {
    return this.options.queue - this.bulkhead.queueSlots;
  }

  /**
   * Runs `work` once admitted, if that happens before `deadline` (epoch ms);
   * see the module comment for what a caller gets otherwise. `work` gets an
   * AbortSignal that aborts at the deadline.
   */
  async run<T>(deadline: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { name } = this.options;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw this.tryLater('its deadline had passed');
    let started = false;
    // abortOnReturn off: aborting the signal of every finished call builds a DOMException (a stack trace) each time.
    const policy = wrap(timeout(remaining, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }), this.bulkhead);
    try {
      const result = policy.execute(async ({ signal }) => {
        started = true;
        outcomes.inc({ name, outcome: 'admitted' });
        this.report();
        try {
          return await work(signal);
        } finally {
          this.noteFinished(Date.now());
        }
      });
      this.report();
      return await result;
    } catch (err) {
      if (err instanceof BulkheadRejectedError) {
        outcomes.inc({ name, outcome: 'rejected' });
        throw this.tryLater(`${this.running} running and ${this.queued} waiting`);
      }
      if (err instanceof TaskCancelledError) {
        outcomes.inc({ name, outcome: started ? 'overran' : 'expired' });
        if (!started) throw this.tryLater('no slot came free before its deadline');
        throw new DomainError('SERVICE_UNAVAILABLE', `${name} did not complete within its deadline; it may still complete`, {
          retryAfterSeconds: this.options.retryAfterSeconds,
        });
      }
      throw err;
    } finally {
      this.report();
    }
  }

  private noteFinished(now: number): void {
    this.finished.push(now);
    while (this.finished[0]! < now - RATE_WINDOW_MS) this.finished.shift();
  }

  /** When to come back: the work in the gate over the rate it finishes at (see the module comment). */
  retryAfterSeconds(now = Date.now()): number {
    while (this.finished.length > 0 && this.finished[0]! < now - RATE_WINDOW_MS) this.finished.shift();
    // Completions per second between the first and the last in the window (a gate that just opened has less than 5 s of them).
    const n = this.finished.length;
    const span = n > 1 ? (this.finished[n - 1]! - this.finished[0]!) / 1000 : 0;
    const perSecond = span > 0 ? (n - 1) / span : 0;
    const ahead = this.running + this.queued;
    const drain = perSecond > 0 ? Math.ceil(ahead / perSecond) : this.options.retryAfterSeconds;
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(this.options.retryAfterSeconds, drain));
  }

  private tryLater(why: string): DomainError {
    const seconds = this.retryAfterSeconds();
    return new DomainError('TRY_LATER', `${this.options.name} is busy right now (${why}); try again in ${seconds} s`, {
      retryAfterSeconds: seconds,
    });
  }

  private report(): void {
    inUse.set({ name: this.options.name, state: 'running' }, this.running);
    inUse.set({ name: this.options.name, state: 'queued' }, this.queued);
  }
}
