/**
 * The customer view's projector: runs in the reservations worker after the
 * write model's handlers, for every event routed to `reservations-events`.
 *
 * Per event (the worker handles several at once, so two events of one
 * reservation may race):
 * 1. read the view (its `rev`);
 * 2. make sure the change record of its current version is logged (a crash
 *    between a view write and its log write is repaired here, before any
 *    later version can exist: the log has no holes);
 * 3. `project()` (pure); no change → republish the current version (harmless:
 *    subscribers drop versions they have; it re-sends a change whose publish
 *    failed before the retry) and stop;
 * 4. a visible change takes the next per-customer feed sequence (atomic
 *    `$inc`) and version + 1;
 * 5. write the view conditionally on `rev` (another writer won → start over);
 * 6. log the change (`<reservationId>:<version>`, insert-once), then publish it.
 *
 * A failure anywhere throws and BullMQ retries the whole event; steps 2 and 3
 * make the retry finish what was left undone.
 */
import type { DomainEvent, EventHandlers } from '@rental/events';
import type { Logger } from '@rental/observability';
import { isComplete, project } from '../domain/customer-view.js';
import { factsOf, snapshotOf, type ViewData, type ViewDoc, type ViewSnapshot } from '../data/view-data.js';

export interface SnapshotPublisher {
  publish(snapshot: ViewSnapshot): Promise<void>;
}

export class ViewProjector {
  constructor(
    private readonly data: ViewData,
    private readonly publisher: SnapshotPublisher,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Applies one event; resolves to the new snapshot when it made a visible change, else null. */
  async apply(event: DomainEvent, log: Logger = this.logger): Promise<ViewSnapshot | null> {
    const id = event.correlationId;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const doc = await this.data.get(id);
      const repaired = doc !== null && doc.version > 0 && (await this.repair(doc));
      const next = project(doc ? factsOf(doc) : null, event);
      if (!next) {
        if (doc && doc.version > 0 && !repaired) await this.publisher.publish(snapshotOf(doc));
        log.debug({ reservationId: id }, 'customer view: event changes nothing');
        return null;
      }
      const visible = isComplete(next);
      const version = visible ? (doc?.version ?? 0) + 1 : (doc?.version ?? 0);
      const sequence = visible ? await this.data.nextSequence(next.customerId!) : (doc?.sequence ?? null);
      const { reservationId: _id, ...facts } = next;
      const fields: Omit<ViewDoc, '_id' | 'rev'> = { ...facts, version, sequence, updatedAt: this.now().toISOString() };
      const written = doc ? await this.data.replace(id, doc.rev, fields) : await this.data.insert({ _id: id, ...fields, rev: 1 });
      if (!written) continue;
      if (!visible) {
        log.info({ reservationId: id }, 'customer view: facts kept until the reservation itself is known');
        return null;
      }
      const snapshot: ViewSnapshot = { ...next, version, sequence: sequence!, updatedAt: fields.updatedAt };
      // Logged BEFORE published: a subscriber that starts listening after this publish
      // finds the change in the log when it replays (publishing first would let a
      // change slip between a replay and the subscriber's listen).
      await this.data.logChange(snapshot);
      await this.publisher.publish(snapshot);
      log.info({ reservationId: id, version, sequence, status: next.status }, 'customer view changed');
      return snapshot;
    }
    throw new Error(`customer view of ${id} kept changing; retrying the event later`);
  }

  /** Logs (and publishes) the current version if its change record is missing; resolves whether it did. */
  private async repair(doc: ViewDoc): Promise<boolean> {
    const snapshot = snapshotOf(doc);
    if (!(await this.data.logChange(snapshot, true))) return false;
    this.logger.warn({ reservationId: doc._id, version: doc.version }, 'customer view: change record was missing; logged it');
    await this.publisher.publish(snapshot);
    return true;
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
