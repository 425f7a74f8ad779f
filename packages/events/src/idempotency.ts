/**
 * Idempotent consumers: remember on the document which events already changed it.
 *
 * Delivery is at least once (outbox re-publish after a crash, BullMQ retry
 * after a handler crashed mid-way), so a handler must be able to see the same
 * event twice and change nothing the second time. The rule: make the state
 * change ONE conditional update whose filter includes `notProcessed(eventId)`
 * and whose `$set` includes `markProcessed(eventId)`:
 *
 * ```ts
 * await StoreOrder.updateOne(
 *   { _id, status: 'OPEN', ...notProcessed(event.eventId) },
 *   { $set: { status: 'CANCELLED', ...markProcessed(event.eventId) } },
 * );
 * ```
 *
 * A repeat matches nothing (`modifiedCount: 0`) and is acknowledged as done.
 *
 * The processed ids are a map keyed by event id (`processedEvents.<eventId>:
 * true`), not an array, because FerretDB lacks `$pull` with a condition and the
 * positional operator; a keyed `$exists` test and `$set` are in its subset. The
 * map only holds the events about one document (a handful per reservation), so
 * it stays small and is never pruned.
 */
import mongoose from 'mongoose';

/** Schema fields a consuming document adds (`new Schema({ ...processedEventsFields, … })`). */
export const processedEventsFields = {
  processedEvents: { type: mongoose.Schema.Types.Mixed, default: {} },
};

function keyOf(eventId: string): string {
  // The id becomes part of a field path: a '.' or '$' would address another field.
  if (!/^[A-Za-z0-9_-]+$/.test(eventId)) throw new Error(`idempotency: unsafe event id "${eventId}"`);
  return `processedEvents.${eventId}`;
}

/** Filter fragment: matches only documents that have not processed `eventId` yet. */
export function notProcessed(eventId: string): Record<string, { $exists: false }> {
  return { [keyOf(eventId)]: { $exists: false } };
}

/** `$set` fragment: records that `eventId` has been processed, in the same update as its effect. */
export function markProcessed(eventId: string): Record<string, true> {
  return { [keyOf(eventId)]: true };
}

/** True when a fetched document has already processed `eventId` (for handlers that read first). */
export function hasProcessed(doc: { processedEvents?: Record<string, unknown> } | null | undefined, eventId: string): boolean {
  return doc?.processedEvents?.[eventId] === true;
}
