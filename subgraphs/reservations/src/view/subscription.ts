/**
 * One `reservationStatus` subscription: an async iterator of view changes,
 * each delivered at most once and, per reservation, in version order, with
 * nothing lost between the point it starts from and the live stream.
 *
 * Protocol (see the README):
 * 1. LISTEN first: SUBSCRIBE to the Redis channel (reservation or customer)
 *    and buffer what arrives.
 * 2. Starting point: per reservation the last version the client has
 *    (`sinceVersion`), else the view's current version now; for the
 *    all-reservations mode the feed position (`sinceSequence`), else the
 *    customer's current sequence now.
 * 3. REPLAY from the change log everything after the starting point, in
 *    order (versions, or feed sequence).
 * 4. FLUSH the buffer, then go LIVE. Every change, replayed or live, passes
 *    one gate: authorized for the caller? already sent (version ≤ last sent
 *    for that reservation)? → dropped; a version beyond last + 1 → the
 *    missing versions are read from the log and sent first.
 * 5. When the Redis connection comes back after a drop (messages may have
 *    been lost), catch up from the log again, through the same gate.
 * `return()` (client unsubscribe, socket closed) stops listening: the Redis
 * channel is UNSUBSCRIBEd when no other subscription of the process uses it.
 *
 * It never stalls and never buffers without bound. The stream ends with an
 * error the client can resume from (`extensions.resumeFrom`: the
 * `sinceVersion` or `sinceSequence` to subscribe again with) when
 * - a catch-up from the change log fails (`SERVICE_UNAVAILABLE`): the
 *   changes it could not read would otherwise be skipped, or the stream
 *   would never turn live;
 * - more than `maxQueued` changes wait for the consumer (`TRY_LATER`): it
 *   fell behind (the router reads too slowly).
 * Changes already queued are delivered before the error, so `resumeFrom` is
 * the last change the consumer received.
 */
import { performance } from 'node:perf_hooks';
import { DomainError, type ErrorCode } from '@rental/errors';
import type { Logger } from '@rental/observability';
import { snapshotsOf, type ViewData, type ViewSnapshot } from '../data/view-data.js';
import type { ChangeLogReads } from './change-log-reads.js';
import type { ViewFeed } from './feed.js';
import { viewPushDelay } from './metrics.js';
import type { FeedSequence } from './sequence.js';

export interface StreamOptions {
  feed: ViewFeed;
  data: ViewData;
  /** The customer feed's position now (where an all-reservations stream without `sinceSequence` starts). */
  sequences: Pick<FeedSequence, 'current'>;
  channel: string;
  logger: Logger;
  /** May the caller see this change? (checked per change) */
  allowed(snapshot: ViewSnapshot): boolean;
  /** One reservation (`reservationId` mode) or all of a customer's. */
  scope: { reservationId: string; sinceVersion: number | null } | { customerId: string; sinceSequence: number | null };
  /** Changes that may wait for the consumer before the stream ends with TRY_LATER. Default {@link DEFAULT_MAX_QUEUED}. */
  maxQueued?: number;
  /** Replay reads shared with the other streams of this process (change-log-reads.ts); without it each stream reads alone. */
  reads?: ChangeLogReads;
}

/** Changes waiting for a slow consumer before its stream ends (a consumer reading at all keeps far below it). */
export const DEFAULT_MAX_QUEUED = 1000;

/** Where a client resumes after its stream ended with an error. */
export type ResumeFrom = { reservationId: string; sinceVersion: number } | { sinceSequence: number };

export class UpdateStream implements AsyncIterableIterator<ViewSnapshot> {
  private readonly queue: ViewSnapshot[] = [];
  private waiter: { resolve(r: IteratorResult<ViewSnapshot>): void; reject(err: unknown): void } | undefined;
  private done = false;
  private unlisten: (() => Promise<void>) | undefined;
  /** Last version sent, per reservation. */
  private readonly sent = new Map<string, number>();
  /** Highest feed sequence sent (all-reservations mode). */
  private lastSequence = 0;
  private live = false;
  private readonly buffer: ViewSnapshot[] = [];
  /** Every delivery runs here, one after the other (gap fills are async). */
  private chain: Promise<void> = Promise.resolve();
  /** Why the stream ended early: the consumer gets it after the queued changes. */
  private failure: DomainError | undefined;
  /** `performance.now()` when the listener was (last) in place: a shared replay read must begin after it. */
  private listeningSince = 0;

  private constructor(private readonly opts: StreamOptions) {}

  /** Listens, then replays and goes live in the background; resolves once listening. */
  static async open(opts: StreamOptions): Promise<UpdateStream> {
    const stream = new UpdateStream(opts);
    stream.unlisten = await opts.feed.listen(
      opts.channel,
      (s) => stream.onMessage(s),
      () => {
        stream.listeningSince = performance.now();
        stream.enqueue(() => stream.catchUp());
      },
    );
    stream.listeningSince = performance.now();
    try {
      await stream.start();
    } catch (err) {
      await stream.return();
      throw err;
    }
    return stream;
  }

  private async start(): Promise<void> {
    const { scope, data } = this.opts;
    if ('reservationId' in scope) {
      const from = scope.sinceVersion ?? (await data.get(scope.reservationId))?.version ?? 0;
      this.sent.set(scope.reservationId, from);
    } else {
      this.lastSequence = scope.sinceSequence ?? (await this.opts.sequences.current(scope.customerId));
    }
    this.enqueue(async () => {
      await this.catchUp();
      this.live = true;
      const buffered = this.buffer.splice(0);
      for (const s of buffered) await this.deliver(s);
    });
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: unknown) => {
      this.opts.logger.warn({ err }, 'reservationStatus: catch-up from the change log failed; ending the stream (resumable)');
      this.interrupt('SERVICE_UNAVAILABLE', 'reservationStatus: the change log could not be read; subscribe again from extensions.resumeFrom');
    });
  }

  /** The point after the last change handed to the consumer's queue. */
  resumeFrom(): ResumeFrom {
    const { scope } = this.opts;
    if ('reservationId' in scope) return { reservationId: scope.reservationId, sinceVersion: this.sent.get(scope.reservationId) ?? 0 };
    return { sinceSequence: this.lastSequence };
  }

  /** Ends the stream early: queued changes are still delivered, then `next()` rejects once with a resumable error. */
  private interrupt(code: ErrorCode, message: string): void {
    if (this.done) return;
    this.done = true;
    this.failure = new DomainError(code, message, { resumeFrom: this.resumeFrom() });
    this.buffer.length = 0;
    void this.unlisten?.();
    const w = this.waiter;
    if (w && this.queue.length === 0) {
      this.waiter = undefined;
      w.reject(this.takeFailure());
    }
  }

  private takeFailure(): DomainError | undefined {
    const f = this.failure;
    this.failure = undefined;
    return f;
  }

  private onMessage(snapshot: ViewSnapshot): void {
    if (this.done) return;
    if (!this.live) {
      this.buffer.push(snapshot);
      return;
    }
    this.enqueue(() => this.deliver(snapshot, true));
  }

  /** Everything in the log after what was sent. */
  private async catchUp(): Promise<void> {
    const { scope, data } = this.opts;
    if ('reservationId' in scope) {
      const after = this.sent.get(scope.reservationId) ?? 0;
      for (const s of await this.changesOf(scope.reservationId, after)) await this.deliver(s);
    } else {
      for (;;) {
        const page = await data.changesOfCustomer(scope.customerId, this.lastSequence, 500);
        for (const s of page) await this.deliver(s);
        if (page.length < 500 || this.done) break;
      }
    }
  }

  /**
   * A reservation's changes after `after`. With `reads`: from a read shared
   * with other streams (change-log-reads.ts), plus what the feed heard since
   * that read began when it began before this stream listened.
   */
  private async changesOf(reservationId: string, after: number): Promise<ViewSnapshot[]> {
    const { reads, data, feed, channel } = this.opts;
    if (!reads) return data.changesOf(reservationId, after);
    const { doc, heard } = await reads.read(reservationId, this.listeningSince, (since) => feed.heardSince(channel, since));
    return [...(doc ? snapshotsOf(doc, after) : []), ...heard.filter((s) => s.reservationId === reservationId && s.version > after)];
  }

  /** The gate: authorized, not sent yet, no version skipped. `live`: heard on the feed now, not replayed (for the push metric). */
  private async deliver(snapshot: ViewSnapshot, live = false): Promise<void> {
    if (this.done || !this.opts.allowed(snapshot)) return;
    const id = snapshot.reservationId;
    const last = this.sent.get(id);
    if (last !== undefined && snapshot.version <= last) return;
    if (last !== undefined && snapshot.version > last + 1) {
      for (const missing of await this.opts.data.changesOf(id, last, snapshot.version - 1)) {
        if (this.done || !this.opts.allowed(missing)) return;
        this.push(missing);
      }
    }
    if (this.push(snapshot) && live) viewPushDelay.observe(Math.max(0, Date.now() - Date.parse(snapshot.updatedAt)) / 1000);
  }

  /** Hands a change to the consumer (or its queue); false when it was sent already. */
  private push(snapshot: ViewSnapshot): boolean {
    const last = this.sent.get(snapshot.reservationId);
    if (last !== undefined && snapshot.version <= last) return false;
    this.sent.set(snapshot.reservationId, snapshot.version);
    if (snapshot.sequence > this.lastSequence) this.lastSequence = snapshot.sequence;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ done: false, value: snapshot });
      return true;
    }
    this.queue.push(snapshot);
    if (this.queue.length > (this.opts.maxQueued ?? DEFAULT_MAX_QUEUED)) {
      this.opts.logger.warn({ queued: this.queue.length }, 'reservationStatus: the consumer fell behind; ending the stream (resumable)');
      this.interrupt('TRY_LATER', 'reservationStatus: the subscriber fell behind; subscribe again from extensions.resumeFrom');
    }
    return true;
  }

  next(): Promise<IteratorResult<ViewSnapshot>> {
    const value = this.queue.shift();
    if (value) return Promise.resolve({ done: false, value });
    const failure = this.takeFailure();
    if (failure) return Promise.reject(failure);
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<ViewSnapshot>> {
    if (!this.done) {
      this.done = true;
      this.queue.length = 0;
      this.buffer.length = 0;
      const w = this.waiter;
      this.waiter = undefined;
      w?.resolve({ done: true, value: undefined });
      await this.unlisten?.();
    }
    this.queue.length = 0;
    this.failure = undefined;
    return { done: true, value: undefined };
  }

  async throw(err?: unknown): Promise<IteratorResult<ViewSnapshot>> {
    await this.return();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
