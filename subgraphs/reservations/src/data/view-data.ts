/**
 * Storage of the customer view (CQRS read model), in the reservations
 * database, written only by the worker's projector.
 *
 * `reservation_views`: one document per reservation (`_id` = reservation
 * id): the projected facts (see `domain/customer-view.ts`), `version` (+1 per
 * visible change, 0 while not visible yet), `sequence` (the customer feed
 * position of the last change), `rev` (+1 per write, the optimistic lock:
 * every write is one `updateOne({_id, rev})`), `updatedAt`, and `changes`,
 * the change log: `changes.v<version>` = the feed sequence, the time and the
 * values the fields that version changed had before it
 * (`domain/view-changes.ts`). A change is ONE write: the view and its log
 * entry land together. Replays rebuild each version's snapshot by walking
 * back from the current facts.
 *
 * Indexes: `{customerId, createdAt}` (myReservations, newest first) and
 * `{customerId, sequence}` (the customer feed's replay). The feed's sequence
 * counter lives in Redis (`view/sequence.ts`).
 *
 * FerretDB 1.24 subset only: conditional single-document updates, `$set`,
 * `$in`/`$ne`/`$or`, sorts on indexed fields.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { afterInNewestFirst, decodeCursor, encodeCursor, NEWEST_FIRST, pageOf, type Page } from '@rental/subgraph-server/pagination';
import { RESERVATION_STATUSES, changeKey, replay, undoOf, type ReservationStatus, type ViewChange } from '../domain/index.js';
import type { ViewFacts } from '../domain/customer-view.js';

/** A visible change of a reservation's view, as logged and pushed. */
export interface ViewSnapshot extends ViewFacts {
  /** +1 per change of this reservation's view, from 1. */
  version: number;
  /** Position in the customer's feed (increasing; numbers may be skipped). */
  sequence: number;
  /** When the change was projected, ISO 8601. */
  updatedAt: string;
}

export interface ViewDoc extends Omit<ViewFacts, 'reservationId'> {
  _id: string;
  version: number;
  sequence: number | null;
  rev: number;
  updatedAt: string;
  /** The change log: `v<version>` → what that version changed. */
  changes: Record<string, ViewChange>;
}

const viewSchema = new Schema<ViewDoc>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, default: null },
    itemId: { type: String, default: null },
    itemName: { type: String, default: null },
    storeId: { type: String, default: null },
    quantity: { type: Number, default: null },
    startDate: { type: String, default: null },
    endDate: { type: String, default: null },
    totalPrice: { type: Number, default: null },
    createdAt: { type: String, default: null },
    status: { type: String, enum: [...RESERVATION_STATUSES, null], default: null },
    history: { type: Schema.Types.Mixed, default: {} },
    storeOrder: { type: Schema.Types.Mixed, default: () => ({ id: null, status: null }) },
    rental: { type: Schema.Types.Mixed, default: () => ({ id: null, status: null }) },
    version: { type: Number, required: true },
    sequence: { type: Number, default: null },
    rev: { type: Number, required: true },
    updatedAt: { type: String, required: true },
    changes: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'reservation_views', strict: true, versionKey: false, minimize: false, timestamps: false },
);
viewSchema.index({ customerId: 1, createdAt: -1 });
viewSchema.index({ customerId: 1, sequence: 1 });

export interface ViewModels {
  views: Model<ViewDoc>;
}

export function viewModels(conn: Connection): ViewModels {
  return {
    views: (conn.models.ReservationView as Model<ViewDoc> | undefined) ?? conn.model<ViewDoc>('ReservationView', viewSchema),
  };
}

export function factsOf(doc: ViewDoc): ViewFacts {
  return {
    reservationId: doc._id,
    customerId: doc.customerId ?? null,
    itemId: doc.itemId ?? null,
    itemName: doc.itemName ?? null,
    storeId: doc.storeId ?? null,
    quantity: doc.quantity ?? null,
    startDate: doc.startDate ?? null,
    endDate: doc.endDate ?? null,
    totalPrice: doc.totalPrice ?? null,
    createdAt: doc.createdAt ?? null,
    status: doc.status ?? null,
    history: doc.history ?? {},
    storeOrder: { id: doc.storeOrder?.id ?? null, status: doc.storeOrder?.status ?? null },
    rental: { id: doc.rental?.id ?? null, status: doc.rental?.status ?? null },
  };
}

/** The snapshot of a visible view (version ≥ 1). */
export function snapshotOf(doc: ViewDoc): ViewSnapshot {
  return { ...factsOf(doc), version: doc.version, sequence: doc.sequence ?? 0, updatedAt: doc.updatedAt };
}

/** The snapshots of versions `after + 1 … upTo` (default: the last), rebuilt from the view's log. */
export function snapshotsOf(doc: ViewDoc, after: number, upTo = doc.version): ViewSnapshot[] {
  return replay(factsOf(doc), doc.version, doc.changes ?? {}, after, upTo, (facts, version, change) => ({
    ...facts,
    version,
    sequence: change.sequence,
    updatedAt: change.updatedAt,
  }));
}

/**
 * The log entry of a new visible version: the changed fields as they were
 * in the version before (`previous`, the view as stored, when it was
 * visible; none for the first visible version).
 */
export function changeOf(previous: ViewDoc | null, next: ViewFacts, sequence: number, updatedAt: string): ViewChange {
  return { sequence, updatedAt, undo: undoOf(previous && previous.version > 0 ? factsOf(previous) : null, next) };
}

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/** A page of a customer's views, newest first. */
export interface ViewPage extends Page<ViewDoc> {
  /** Counts the customer's views matching the status filter (ignoring the cursor); called only when asked for. */
  count: () => Promise<number>;
}

/** The list name inside `myReservations` cursors: another list's cursor is refused. */
const MY_RESERVATIONS = 'myReservations';

/** Cursor of a listed view: its createdAt and id (the sort key). */
export function viewCursor(doc: Pick<ViewDoc, '_id' | 'createdAt'>): string {
  return encodeCursor(MY_RESERVATIONS, [doc.createdAt ?? '', doc._id]);
}

/** The sort key inside `after` (null when none is given); BAD_USER_INPUT on `after` for anything but a `myReservations` cursor. */
export function viewAfter(after: string | null | undefined): { createdAt: string; id: string } | null {
  const key = decodeCursor(MY_RESERVATIONS, after, 2);
  return key ? { createdAt: key[0]!, id: key[1]! } : null;
}

/** Fields of a view written by the projector (everything but `_id`, `rev` and the log). */
export type ViewFields = Omit<ViewDoc, '_id' | 'rev' | 'changes'>;

/** The list and feed reads skip the log (it can be several versions long). */
const WITHOUT_LOG = { changes: 0 } as const;

export class ViewData {
  constructor(readonly models: ViewModels) {}

  async init(): Promise<void> {
    await this.models.views.init();
  }

  async get(reservationId: string): Promise<ViewDoc | null> {
    return this.models.views.findById(reservationId).lean<ViewDoc>();
  }

  /**
   * Inserts the first document of a reservation's view, with the log entry of
   * its first version when it is visible; false when another writer was first.
   */
  async insert(reservationId: string, fields: ViewFields, change: ViewChange | null): Promise<boolean> {
    const doc: ViewDoc = { _id: reservationId, ...fields, rev: 1, changes: change ? { [changeKey(fields.version)]: change } : {} };
    try {
      await this.models.views.collection.insertOne(doc as never);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * Replaces the view's fields if it is still at `rev`, adding the log entry
   * of its new version in the same update; false when it changed meanwhile.
   */
  async replace(reservationId: string, rev: number, fields: ViewFields, change: ViewChange | null): Promise<boolean> {
    const set: Record<string, unknown> = { ...fields, rev: rev + 1 };
    if (change) set[`changes.${changeKey(fields.version)}`] = change;
    const res = await this.models.views.collection.updateOne({ _id: reservationId as never, rev }, { $set: set });
    return res.matchedCount > 0;
  }

  /** The highest feed sequence a customer's views carry (0 when none): the floor of the Redis counter. */
  async maxSequence(customerId: string): Promise<number> {
    const docs = await this.models.views
      .find({ customerId, sequence: { $gt: 0 } }, { sequence: 1 })
      .sort({ sequence: -1 })
      .limit(1)
      .lean<Array<Pick<ViewDoc, 'sequence'>>>();
    return docs[0]?.sequence ?? 0;
  }

  /**
   * Changes of a reservation with `after < version ≤ upTo` (default: the
   * view's current version), in version order: one read by `_id`.
   */
  async changesOf(reservationId: string, after: number, upTo?: number): Promise<ViewSnapshot[]> {
    const doc = await this.get(reservationId);
    return doc ? snapshotsOf(doc, after, upTo) : [];
  }

  /**
   * Changes of a customer's reservations after feed position `after`, in
   * feed order (at most `limit`): the views whose last change is after it
   * (by index on `{customerId, sequence}`), and of those the versions after it.
   */
  async changesOfCustomer(customerId: string, after: number, limit = 1000): Promise<ViewSnapshot[]> {
    const docs = await this.models.views.find({ customerId, sequence: { $gt: after } }).lean<ViewDoc[]>();
    return docs
      .flatMap((doc) => snapshotsOf(doc, 0).filter((s) => s.sequence > after))
      .sort((a, b) => a.sequence - b.sequence)
      .slice(0, limit);
  }

  /**
   * A customer's visible views, newest first (createdAt, then id), after
   * `cursor`; `statuses` null = every status but CANCELLED.
   */
  async list(customerId: string, statuses: readonly ReservationStatus[] | null, first: number, cursor: { createdAt: string; id: string } | null): Promise<ViewPage> {
    const filter: Record<string, unknown> = {
      customerId,
      version: { $gte: 1 },
      status: statuses ? { $in: [...statuses] } : { $ne: 'CANCELLED' },
    };
    const after = cursor ? { ...filter, ...afterInNewestFirst(cursor) } : filter;
    const docs = await this.models.views.find(after, WITHOUT_LOG).sort(NEWEST_FIRST).limit(first + 1).lean<ViewDoc[]>();
    return { ...pageOf(docs, first), count: () => this.models.views.countDocuments(filter).exec() };
  }
}
