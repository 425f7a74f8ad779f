/**
 * The transactional outbox, kept on the producing document itself.
 *
 * Why on the document: FerretDB (our local server) has no multi-document
 * transactions and no change streams, but one `updateOne` on one document is
 * atomic. So the state change and the events it causes are written in the
 * same update: `outbox.<eventId> = envelope`, `outboxCount += n`. Either both
 * land or neither does; no event can be lost between the write and the publish.
 *
 * Relay protocol ({@link OutboxRelay}), per document:
 *   1. publish its pending events to the bus, oldest first (BullMQ job id =
 *      eventId);
 *   2. remove the published ones with ONE conditional update
 *      `{ _id, 'outbox.<id>': { $exists: true }, … }` → `$unset` them,
 *      `$inc outboxCount -n` (or, if one of them is gone already, one such
 *      update per event).
 * Publish comes before removal. A crash between 1 and 2 leaves the events in
 * the outbox; they are published again on the next flush and dropped by
 * BullMQ as duplicate job ids (or, past the dedupe window, ignored by the
 * idempotent consumer). Delivery is at least once, never zero times.
 * The conditions of step 2 make two relays (two replicas, or a request-path
 * flush racing the sweep) decrement the counter once between them.
 *
 * When the relay runs: right after each write (`publishWritten` with the
 * events the caller wrote: no read; or `flush`/`flushSoon(doc._id)`: one
 * read), at start-up (recovering what a crashed process left) and every
 * `sweepMs` (catching what a failed publish left). The sweep reads only
 * documents with `outboxCount > 0`, by index.
 *
 * Only keyed `$set`/`$unset`/`$inc`/`$exists` are used: all in the FerretDB subset.
 */
import mongoose, { type Model } from 'mongoose';
import { createLogger, type Logger } from '@rental/observability';
import { parseEvent, type DomainEvent } from './catalog.js';
import type { EventBus } from './bus.js';

/**
 * Schema fields a producing document adds (`new Schema({ ...outboxFields, … })`).
 * `outbox` is Mixed (keys are event ids); `outboxCount` is indexed so the
 * sweep finds pending documents without a collection scan. Write the outbox
 * with `updateOne`/`findOneAndUpdate` and {@link withOutbox}: mongoose does not
 * track changes inside Mixed paths on `doc.save()`.
 */
export const outboxFields = {
  outbox: { type: mongoose.Schema.Types.Mixed, default: {} },
  outboxCount: { type: Number, default: 0, index: true },
};

/** The outbox fields as they are stored. */
export interface OutboxState {
  outbox?: Record<string, unknown>;
  outboxCount?: number;
}

/** An update document (`$set`, `$inc`, …) as passed to `updateOne`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type UpdateDocument = Record<string, any>;

function entriesOf(events: readonly DomainEvent[]): Record<string, DomainEvent> {
  const entries: Record<string, DomainEvent> = {};
  for (const event of events) {
    const valid = parseEvent(event);
    if (entries[valid.eventId]) throw new Error(`outbox: event ${valid.eventId} given twice`);
    entries[valid.eventId] = valid;
  }
  return entries;
}

/**
 * Adds `events` to an update that changes a document's state, so both are
 * written atomically: merges `$set: { 'outbox.<eventId>': envelope }` and
 * `$inc: { outboxCount: n }` into `update` (returns a new object). Throws if an
 * event is invalid or `update` already writes the whole `outbox`/`outboxCount`.
 *
 * ```ts
 * const ok = await Reservation.updateOne({ _id, status: 'PENDING' },
 *   withOutbox({ $set: { status: 'CONFIRMED' } }, [confirmed]));
 * if (ok.modifiedCount) relay.flushSoon(_id);
 * ```
 */
export function withOutbox<U extends UpdateDocument>(update: U, events: readonly DomainEvent[]): U {
  for (const op of Object.values(update) as unknown[]) {
    if (op && typeof op === 'object' && ('outbox' in op || 'outboxCount' in op)) {
      throw new Error('withOutbox: the update already writes outbox/outboxCount');
    }
  }
  if (events.length === 0) return update;
  const set: Record<string, unknown> = { ...((update.$set as Record<string, unknown> | undefined) ?? {}) };
  for (const [eventId, event] of Object.entries(entriesOf(events))) set[`outbox.${eventId}`] = event;
  const inc: Record<string, number> = { ...((update.$inc as Record<string, number> | undefined) ?? {}) };
  inc.outboxCount = (inc.outboxCount ?? 0) + events.length;
  return { ...update, $set: set, $inc: inc };
}

/**
 * The outbox fields of a document being created with pending events
 * (`Model.create({ ...state, ...initialOutbox([created]) })`); insertion is as
 * atomic as an update.
 */
export function initialOutbox(events: readonly DomainEvent[]): Required<OutboxState> {
  const outbox = entriesOf(events);
  return { outbox, outboxCount: Object.keys(outbox).length };
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** The models whose documents carry an outbox (they include {@link outboxFields}). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  models: Model<any>[];
  bus: EventBus;
  logger?: Logger;
  /** Period of the background sweep (`OUTBOX_SWEEP_MS`). Default 5000. */
  sweepMs?: number;
  /** Documents read per query during a sweep. Default 100. */
  batchSize?: number;
}

/**
 * Publishes what outboxes still hold, then removes it. Run one per producing
 * process; several (replicas) are safe together, only wasteful.
 */
export class OutboxRelay {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly models: Model<any>[];
  private readonly bus: EventBus;
  private readonly log: Logger;
  private readonly sweepMs: number;
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  /** Flushes in progress per document: a second flush of the same document waits for the first. */
  private readonly inFlight = new Map<string, Promise<number>>();

  constructor(options: OutboxRelayOptions) {
    if (options.models.length === 0) throw new Error('OutboxRelay: at least one model is required');
    this.models = options.models;
    this.bus = options.bus;
    this.log = options.logger ?? createLogger('outbox');
    this.sweepMs = options.sweepMs ?? 5000;
    this.batchSize = options.batchSize ?? 100;
  }

  /**
   * Publishes and removes pending events: of one document when `docId` is
   * given (of `model`, or of whichever relay model has that id), else of every
   * document with `outboxCount > 0`. Resolves to the number of events this
   * call published. Rejects when the one document's publish fails (a sweep
   * logs per-document failures and goes on); what is left is retried later.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async flush(docId?: unknown, model?: Model<any>): Promise<number> {
    if (docId === undefined) return this.sweep();
    let published = 0;
    for (const m of model ? [model] : this.models) {
      published += await this.serially(m, docId, async () => {
        let doc: ({ _id: unknown } & OutboxState) | null;
        try {
          doc = await m.findOne({ _id: docId }).select({ outbox: 1 }).lean<{ _id: unknown } & OutboxState>();
        } catch (err) {
          // An id of another model's type (e.g. a UUID against ObjectId ids) just is not here.
          if (err instanceof mongoose.Error.CastError) return 0;
          throw err;
        }
        return doc ? this.publishEntries(m, doc._id, doc.outbox ?? {}) : 0;
      });
    }
    return published;
  }

  /**
   * Publishes events the caller has just written to the outbox of document
   * `docId` (so nothing is read: the caller knows them), then removes them
   * with one update. What a request path calls right after its write; like
   * {@link flush} it rejects when the publish fails, leaving the events to
   * the sweep.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  publishWritten(model: Model<any>, docId: unknown, events: readonly DomainEvent[]): Promise<number> {
    const entries = Object.fromEntries(events.map((e) => [e.eventId, e]));
    return this.serially(model, docId, () => this.publishEntries(model, docId, entries));
  }

  /**
   * Starts a flush of one document without waiting for it; failures are
   * logged and left to the sweep. This is what a request handler calls after
   * its write: the mutation answers without waiting on Redis, consumers see
   * the event a few milliseconds later, and if this process dies first the
   * event is still in the outbox for the next relay to publish. Await
   * {@link flush} instead where the caller needs the event on the queue.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  flushSoon(docId: unknown, model?: Model<any>): void {
    this.flush(docId, model).catch((err) => this.log.warn({ err, docId: String(docId) }, 'outbox: flush failed; the sweep will retry'));
  }

  /** Flushes at once (start-up recovery), then every `sweepMs`. Idempotent. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      if (this.sweeping) return; // the previous sweep is still running
      this.sweeping = this.sweep()
        .catch((err) => {
          this.log.error({ err }, 'outbox: sweep failed');
          return 0;
        })
        .finally(() => {
          this.sweeping = undefined;
        });
    };
    tick();
    this.timer = setInterval(tick, this.sweepMs);
    this.timer.unref();
  }

  /** Stops the sweep and waits for running flushes; pending events stay in the outbox. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Every pending document of every model, in `_id` order, `batchSize` at a time. */
  private async sweep(): Promise<number> {
    let published = 0;
    for (const model of this.models) {
      let after: unknown;
      for (;;) {
        // Paging by _id (not re-querying `outboxCount > 0` from the start) so a
        // document whose publish keeps failing cannot stall the sweep forever.
        const filter: Record<string, unknown> = { outboxCount: { $gt: 0 } };
        if (after !== undefined) filter._id = { $gt: after };
        const batch = await model.find(filter).sort({ _id: 1 }).limit(this.batchSize).select({ _id: 1 }).lean<{ _id: unknown }[]>();
        if (batch.length === 0) break;
        // Each document's outbox is read again under its flush lock: a flush in progress may have emptied it.
        const results = await Promise.allSettled(batch.map((doc) => this.flush(doc._id, model)));
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') published += r.value;
          else this.log.warn({ err: r.reason, docId: String(batch[i]!._id) }, 'outbox: could not flush a document; retrying next sweep');
        });
        if (batch.length < this.batchSize) break;
        after = batch[batch.length - 1]!._id;
      }
    }
    if (published > 0) this.log.info({ published }, 'outbox: sweep published pending events');
    return published;
  }

  /** Runs `work` after the flushes of the same document that are in progress (one at a time per document). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private serially(model: Model<any>, docId: unknown, work: () => Promise<number>): Promise<number> {
    const key = `${model.collection.name}/${String(docId)}`;
    const previous = this.inFlight.get(key) ?? Promise.resolve(0);
    const run = previous
      .catch(() => 0)
      .then(work)
      .finally(() => {
        if (this.inFlight.get(key) === run) this.inFlight.delete(key);
      });
    this.inFlight.set(key, run);
    return run;
  }

  /**
   * Publishes outbox entries (as read, or as just written) oldest first, then
   * removes the published ones. Stops at the first failed publish (rejects);
   * the ones published before it are removed first.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async publishEntries(model: Model<any>, docId: unknown, outbox: Record<string, unknown>): Promise<number> {
    const events: { key: string; event: DomainEvent }[] = [];
    for (const [key, raw] of Object.entries(outbox)) {
      try {
        events.push({ key, event: parseEvent(raw) });
      } catch (err) {
        // Cannot happen through withOutbox (it validates). Left in place, loudly,
        // rather than dropped: someone must look at it.
        this.log.error({ err, docId: String(docId), eventId: key }, 'outbox: invalid entry left in place');
      }
    }
    events.sort((a, b) => Date.parse(a.event.occurredAt) - Date.parse(b.event.occurredAt));
    const published: string[] = [];
    try {
      for (const { key, event } of events) {
        await this.bus.publish(event);
        published.push(key);
      }
    } finally {
      await this.remove(model, docId, published);
    }
    return published.length;
  }

  /**
   * Removes published entries: one update for all of them when every one is
   * still there (the usual case), else one per entry, so two relays that
   * published the same events decrement `outboxCount` once between them.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async remove(model: Model<any>, docId: unknown, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const exists = Object.fromEntries(keys.map((k) => [`outbox.${k}`, { $exists: true }]));
    const unset = Object.fromEntries(keys.map((k) => [`outbox.${k}`, '']));
    // The driver directly: `docId` is the stored `_id` (read from the document, or the caller's own).
    const all = await model.collection.updateOne({ _id: docId, ...exists } as never, { $unset: unset, $inc: { outboxCount: -keys.length } });
    if (all.matchedCount > 0 || keys.length === 1) return;
    for (const k of keys) {
      await model.collection.updateOne({ _id: docId, [`outbox.${k}`]: { $exists: true } } as never, { $unset: { [`outbox.${k}`]: '' }, $inc: { outboxCount: -1 } });
    }
  }
}
