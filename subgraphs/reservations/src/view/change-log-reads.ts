/**
 * Reads of a reservation's change log shared by the subscriptions that start
 * on it at about the same moment: when thousands of screens open on a few
 * reservations (a page reload, a router restart), each would otherwise read
 * the same view document for its replay, and the database becomes the queue
 * every new subscriber waits in.
 *
 * Ordering rule (what keeps a shared read exact): a stream listens on Redis
 * first, then reads the log; a change committed after its read began is
 * published after that, so the stream hears it. A stream may therefore use
 *
 * 1. a read that BEGAN AFTER it was listening, as it is; or
 * 2. a read that began earlier (running, or finished less than
 *    `RECENT_MS` ago), together with every message the process's feed heard
 *    on the reservation's channel since that read began, provided the feed
 *    vouches that it heard that whole stretch (`ViewFeed.heardSince`):
 *    whatever the read may have missed is among those messages.
 *
 * Otherwise it waits for the next read, which starts as soon as the current
 * one ends and serves everyone who asked meanwhile: per reservation at most
 * one read runs and one waits. The stream's gate drops what it gets twice.
 */
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import type { ViewDoc, ViewSnapshot } from '../data/view-data.js';
import { RECENT_MS } from './feed.js';

/** Where the documents come from (ViewData). */
export interface ViewSource {
  get(reservationId: string): Promise<ViewDoc | null>;
}

/** The feed's memory of a channel: what it heard since a moment, or undefined when it cannot vouch for all of it. */
export type HeardSince = (since: number) => ViewSnapshot[] | undefined;

/** A shared read: the document, and the messages the stream must also take (case 2 of the module comment). */
export interface SharedRead {
  doc: ViewDoc | null;
  heard: ViewSnapshot[];
}

interface Batch {
  /** `performance.now()` when the read began (+∞ while it waits its turn). */
  startedAt: number;
  result: Promise<ViewDoc | null>;
}

export class ChangeLogReads {
  private readonly running = new Map<string, Batch>();
  private readonly queued = new Map<string, Batch>();
  /** The last finished read per reservation, for case 2 (its age is checked by the feed too). */
  private readonly finished = new LRUCache<string, Batch>({ max: 10_000, ttl: RECENT_MS });

  constructor(private readonly source: ViewSource) {}

  /** A read that serves a stream listening since `listeningSince` (`performance.now()`), with what it must add from `heard`. */
  async read(reservationId: string, listeningSince: number, heard?: HeardSince): Promise<SharedRead> {
    const current = this.running.get(reservationId);
    if (current && current.startedAt >= listeningSince) return { doc: await current.result, heard: [] };
    const earlier = current ?? this.finished.get(reservationId);
    const missed = earlier ? heard?.(earlier.startedAt) : undefined;
    if (earlier && missed) return { doc: await earlier.result, heard: missed };
    if (!current) return { doc: await this.start(reservationId).result, heard: [] };
    return { doc: await this.next(reservationId, current).result, heard: [] };
  }

  /** The read that starts once `current` ends, shared by everyone who asks meanwhile. */
  private next(reservationId: string, current: Batch): Batch {
    const known = this.queued.get(reservationId);
    if (known) return known;
    const waiting: Batch = {
      startedAt: Number.POSITIVE_INFINITY,
      result: current.result.catch(() => undefined).then(() => {
        this.queued.delete(reservationId);
        return this.start(reservationId).result;
      }),
    };
    this.queued.set(reservationId, waiting);
    return waiting;
  }

  private start(reservationId: string): Batch {
    const batch: Batch = { startedAt: performance.now(), result: this.source.get(reservationId) };
    this.running.set(reservationId, batch);
    batch.result.then(
      () => {
        if (this.running.get(reservationId) === batch) this.running.delete(reservationId);
        this.finished.set(reservationId, batch);
      },
      () => {
        if (this.running.get(reservationId) === batch) this.running.delete(reservationId);
      },
    );
    return batch;
  }
}
