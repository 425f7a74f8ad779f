/**
 * Reads of a reservation's change log shared by the subscriptions that start
 * on it at the same moment: when thousands of screens open on a few
 * reservations (a page reload, a router restart), each would otherwise read
 * the same view document once for its replay, and the database becomes the
 * queue every new subscriber waits in.
 *
 * Ordering rule (what keeps a shared read exact): a stream listens on Redis
 * first, then reads the log; a change committed after its read began reaches
 * it through its listener. So a stream may use only a read that BEGAN AFTER
 * it was listening: a read already under way when it asks may miss a change
 * it did not hear either. It then waits for the next read, which starts as
 * soon as the current one ends and serves everyone who asked meanwhile. Per
 * reservation at most one read runs and one waits, however many subscribe.
 */
import { performance } from 'node:perf_hooks';
import type { ViewDoc } from '../data/view-data.js';

/** Where the documents come from (ViewData). */
export interface ViewSource {
  get(reservationId: string): Promise<ViewDoc | null>;
}

interface Batch {
  /** `performance.now()` when the read began (+∞ while it waits its turn). */
  startedAt: number;
  result: Promise<ViewDoc | null>;
}

export class ChangeLogReads {
  private readonly running = new Map<string, Batch>();
  private readonly queued = new Map<string, Batch>();

  constructor(private readonly source: ViewSource) {}

  /** The view document as read by a read that began at or after `listeningSince` (`performance.now()`). */
  read(reservationId: string, listeningSince: number): Promise<ViewDoc | null> {
    const current = this.running.get(reservationId);
    if (!current) return this.start(reservationId).result;
    if (current.startedAt >= listeningSince) return current.result;
    const next = this.queued.get(reservationId);
    if (next) return next.result;
    const waiting: Batch = {
      startedAt: Number.POSITIVE_INFINITY,
      result: current.result.catch(() => undefined).then(() => {
        this.queued.delete(reservationId);
        return this.start(reservationId).result;
      }),
    };
    this.queued.set(reservationId, waiting);
    return waiting.result;
  }

  private start(reservationId: string): Batch {
    const batch: Batch = { startedAt: performance.now(), result: this.source.get(reservationId) };
    this.running.set(reservationId, batch);
    const done = () => {
      if (this.running.get(reservationId) === batch) this.running.delete(reservationId);
    };
    batch.result.then(done, done);
    return batch;
  }
}
