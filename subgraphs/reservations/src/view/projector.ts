/**
 * The customer view's projector: runs in the reservations worker after the
 * write model's handlers, for every event routed to `reservations-events`.
 *
 * Per event (the worker handles several at once, so two events of one
 * reservation may race):
 * 1. read the view (its `rev`), except for an event that normally comes
 *    first (the reservation's own outcome: confirmed, rejected, payment
 *    failed): it tries to insert the view at once and reads only if one
 *    exists already; and except when this process wrote the view a moment
 *    ago ({@link RECENT_VIEWS}: the store order's event follows the
 *    confirmation within milliseconds): that copy is used, and if another
 *    writer changed the view since, the conditional write misses and the
 *    view is read. A copy can only be older than the view, never newer, and
 *    views only move forward, so an event it shows as changing nothing
 *    changes nothing in the view either. A later event that finds no view
 *    yet reads again after {@link OUTCOME_WAIT_MS} (see there) before it
 *    writes its facts alone;
 * 2. `project()` (pure); no change → republish the current version
 *    (harmless: subscribers drop versions they have; it re-sends a change
 *    whose publish failed before a retry) and stop;
 * 3. a visible change takes the next customer feed sequence (Redis) and
 *    version + 1, and its log entry (what changed, `domain/view-changes.ts`);
 * 4. write the view and its log entry in ONE write, conditional on `rev`
 *    (insert for the first document; another writer won → start over);
 * 5. publish the snapshot on Redis.
 *
 * So a change costs one database write, and usually no read. A
 * failure anywhere throws and BullMQ retries the whole event; step 2 makes
 * the retry publish what a crash left unpublished.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { DomainEvent, EventHandlers, EventType } from '@rental/events';
import type { Logger } from '@rental/observability';
import { isComplete, project, type ViewFacts } from '../domain/customer-view.js';
import { changeKey } from '../domain/view-changes.js';
import { changeOf, factsOf, snapshotOf, type ViewData, type ViewDoc, type ViewFields, type ViewSnapshot } from '../data/view-data.js';
import type { FeedSequence } from './sequence.js';

export interface SnapshotPublisher {
  publish(snapshot: ViewSnapshot): Promise<void>;
}

/** Events that normally find no view yet: the projector inserts before it reads. */
const FIRST_EVENTS: ReadonlySet<EventType> = new Set(['ReservationConfirmed', 'ReservationRejected', 'ReservationPaymentFailed']);

/**
 * How long a later event (store order, rental) that finds no view waits for
 * the reservation's outcome to write it, rereading after each pause. The
 * outcome and the store's `StoreOrderCreated` reach this worker at nearly the
 * same time (the stores worker answers the same `ReservationConfirmed`), and
 * in the bench about one reservation in five had its store order projected
 * first: the facts were inserted alone, the outcome's insert then failed on
 * the duplicate `_id` and had to read and update. Waiting costs a read or two
 * and no write; past the pauses the facts are kept alone as before, so a late
 * outcome is still handled correctly.
 */
export const OUTCOME_WAIT_MS: readonly number[] = [50, 200];

/** Views this process wrote lately, kept to skip the read of the next event of the same reservation. */
export const RECENT_VIEWS = { max: 5_000, ttlMs: 60_000 } as const;

export class ViewProjector {
  private readonly recent = new LRUCache<string, ViewDoc>({ max: RECENT_VIEWS.max, ttl: RECENT_VIEWS.ttlMs });

  constructor(
    private readonly data: ViewData,
    private readonly sequences: FeedSequence,
    private readonly publisher: SnapshotPublisher,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Applies one event; resolves to the new snapshot when it made a visible change, else null. */
  async apply(event: DomainEvent, log: Logger = this.logger): Promise<ViewSnapshot | null> {
    const id = event.correlationId;
    // `undefined`: not read yet (insert first); `null`: read, there is none.
    let doc: ViewDoc | null | undefined = this.recent.get(id) ?? (FIRST_EVENTS.has(event.type) ? undefined : await this.awaitOutcome(id));
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const next = project(doc ? factsOf(doc) : null, event);
      if (!next) {
        if (doc && doc.version > 0) await this.publisher.publish(snapshotOf(doc));
        log.debug({ reservationId: id }, 'customer view: event changes nothing');
        return null;
      }
      const written = await this.write(id, doc ?? null, next);
      if (!written) {
        this.recent.delete(id);
        doc = await this.data.get(id);
        continue;
      }
      if (written === 'kept') {
        log.info({ reservationId: id }, 'customer view: facts kept until the reservation itself is known');
        return null;
      }
      await this.publisher.publish(written);
      log.info({ reservationId: id, version: written.version, sequence: written.sequence, status: next.status }, 'customer view changed');
      return written;
    }
    throw new Error(`customer view of ${id} kept changing; retrying the event later`);
  }

  /** Reads the view of a later event, waiting for the outcome's insert when there is none yet. */
  private async awaitOutcome(id: string): Promise<ViewDoc | null> {
    let doc = await this.data.get(id);
    for (const pause of OUTCOME_WAIT_MS) {
      if (doc) break;
      await sleep(pause);
      doc = await this.data.get(id);
    }
    return doc;
  }

  /**
   * Writes `next` over `doc` (insert when there is none): resolves to the new
   * snapshot, 'kept' for a change not visible yet, or false when another
   * writer was first.
   */
  private async write(id: string, doc: ViewDoc | null, next: ViewFacts): Promise<ViewSnapshot | 'kept' | false> {
    const visible = isComplete(next);
    const version = visible ? (doc?.version ?? 0) + 1 : (doc?.version ?? 0);
    const sequence = visible ? await this.sequences.next(next.customerId!) : (doc?.sequence ?? null);
    const updatedAt = this.now().toISOString();
    const { reservationId: _id, ...facts } = next;
    const fields: ViewFields = { ...facts, version, sequence, updatedAt };
    const change = visible ? changeOf(doc, next, sequence!, updatedAt) : null;
    const ok = doc ? await this.data.replace(id, doc.rev, fields, change) : await this.data.insert(id, fields, change);
    if (!ok) return false;
    const changes = change ? { ...(doc?.changes ?? {}), [changeKey(version)]: change } : (doc?.changes ?? {});
    this.recent.set(id, { _id: id, ...fields, rev: (doc?.rev ?? 0) + 1, changes });
    return visible ? { ...next, version, sequence: sequence!, updatedAt } : 'kept';
  }

  /** The worker's handlers: every event routed to reservations goes through the projector. */
  handlers(): EventHandlers {
    const handle = async (event: DomainEvent, ctx: { log: Logger }) => {
      await this.apply(event, ctx.log);
    };
    return {
      ReservationConfirmed: handle,
      ReservationRejected: handle,
      ReservationPaymentFailed: handle,
      ReservationCancelled: handle,
      StoreOrderCreated: handle,
      StoreOrderPrepared: handle,
      StoreOrderCancelled: handle,
      RentalStarted: handle,
      RentalReturned: handle,
    };
  }
}
