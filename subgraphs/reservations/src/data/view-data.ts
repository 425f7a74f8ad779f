/**
 * Storage of the customer view (CQRS read model), in the reservations
 * database, written only by the worker's projector:
 *
 * - `reservation_views`: one document per reservation (`_id` = reservation
 *   id): the projected facts (see `domain/customer-view.ts`), `version` (+1
 *   per visible change, 0 while not visible yet), `sequence` (the customer
 *   feed position of the last change), `rev` (+1 per write, the optimistic
 *   lock: every write is one `updateOne({_id, rev})`), `updatedAt`.
 * - `reservation_view_changes`: the change log, one document per visible
 *   change, `_id` = `<reservationId>:<version>` (a retried write cannot
 *   duplicate it), with `customerId`, `storeId`, `version`, `sequence`, `at`
 *   and the whole snapshot. Replays read it.
 * - `reservation_view_counters`: `{_id: customerId, seq}`, the per-customer
 *   feed sequence, taken with one atomic `$inc` (upsert).
 *
 * FerretDB 1.24 subset only: conditional single-document updates, `$inc`,
 * `$set`, `$in`/`$ne`/`$or`, sorts on indexed fields.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import { RESERVATION_STATUSES, type ReservationStatus } from '../domain/index.js';
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
}

export interface ChangeDoc {
  _id: string;
  reservationId: string;
  customerId: string;
  storeId: string | null;
  version: number;
  sequence: number;
  at: Date;
  snapshot: ViewSnapshot;
}

interface CounterDoc {
  _id: string;
  seq: number;
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
  },
  { collection: 'reservation_views', strict: true, versionKey: false, minimize: false, timestamps: false },
);
viewSchema.index({ customerId: 1, createdAt: -1 });

const changeSchema = new Schema<ChangeDoc>(
  {
    _id: { type: String, required: true },
    reservationId: { type: String, required: true },
    customerId: { type: String, required: true },
    storeId: { type: String, default: null },
    version: { type: Number, required: true },
    sequence: { type: Number, required: true },
    at: { type: Date, required: true },
    snapshot: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'reservation_view_changes', strict: true, versionKey: false, minimize: false },
);
changeSchema.index({ reservationId: 1, version: 1 });
changeSchema.index({ customerId: 1, sequence: 1 });

const counterSchema = new Schema<CounterDoc>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true } },
  { collection: 'reservation_view_counters', versionKey: false },
);

export interface ViewModels {
  views: Model<ViewDoc>;
  changes: Model<ChangeDoc>;
  counters: Model<CounterDoc>;
}

export function viewModels(conn: Connection): ViewModels {
  return {
    views: (conn.models.ReservationView as Model<ViewDoc> | undefined) ?? conn.model<ViewDoc>('ReservationView', viewSchema),
    changes: (conn.models.ReservationViewChange as Model<ChangeDoc> | undefined) ?? conn.model<ChangeDoc>('ReservationViewChange', changeSchema),
    counters:
      (conn.models.ReservationViewCounter as Model<CounterDoc> | undefined) ?? conn.model<CounterDoc>('ReservationViewCounter', counterSchema),
  };
}

export function changeId(reservationId: string, version: number): string {
  return `${reservationId}:${version}`;
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

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/** A page of a customer's views, newest first. */
export interface ViewPage {
  views: ViewDoc[];
  hasNextPage: boolean;
  totalCount: number;
}

/** Cursor of a listed view: its createdAt and id (the sort key). */
export function encodeCursor(doc: Pick<ViewDoc, '_id' | 'createdAt'>): string {
  return Buffer.from(JSON.stringify([doc.createdAt, doc._id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  return null;
}

export class ViewData {
  constructor(readonly models: ViewModels) {}

  async init(): Promise<void> {
    await Promise.all([this.models.views.init(), this.models.changes.init(), this.models.counters.init()]);
  }

  async get(reservationId: string): Promise<ViewDoc | null> {
    return this.models.views.findById(reservationId).lean<ViewDoc>();
  }

  /** Inserts the first document of a reservation's view; false when another writer was first. */
  async insert(doc: ViewDoc): Promise<boolean> {
    try {
      await this.models.views.collection.insertOne(doc as never);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Replaces the view if it is still at `rev`; false when it changed meanwhile. */
  async replace(reservationId: string, rev: number, fields: Omit<ViewDoc, '_id' | 'rev'>): Promise<boolean> {
    const res = await this.models.views.collection.updateOne({ _id: reservationId as never, rev }, { $set: { ...fields, rev: rev + 1 } });
    return res.matchedCount > 0;
  }

  /** The next number of the customer's feed (one atomic `$inc`, upserting the counter). */
  async nextSequence(customerId: string): Promise<number> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const doc = await this.models.counters.findOneAndUpdate({ _id: customerId }, { $inc: { seq: 1 } }, { upsert: true, new: true }).lean<CounterDoc>();
        return doc!.seq;
      } catch (err) {
        // Two first upserts at once: one wins the insert, the other retries as an update.
        if (!isDuplicateKey(err) || attempt >= 3) throw err;
      }
    }
  }

  /** The customer's last feed sequence (0 when none). */
  async currentSequence(customerId: string): Promise<number> {
    const doc = await this.models.counters.findById(customerId).lean<CounterDoc>();
    return doc?.seq ?? 0;
  }

  /**
   * Writes the change record of a snapshot unless it exists; resolves whether
   * it wrote it. `checkFirst`: read before inserting (the repair path, where
   * the record nearly always exists already).
   */
  async logChange(snapshot: ViewSnapshot, checkFirst = false): Promise<boolean> {
    const _id = changeId(snapshot.reservationId, snapshot.version);
    if (checkFirst && (await this.models.changes.exists({ _id }))) return false;
    try {
      await this.models.changes.collection.insertOne({
        _id: _id as never,
        reservationId: snapshot.reservationId,
        customerId: snapshot.customerId!,
        storeId: snapshot.storeId,
        version: snapshot.version,
        sequence: snapshot.sequence,
        at: new Date(snapshot.updatedAt),
        snapshot,
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * Changes of a reservation with `after < version ≤ upTo` (default: the
   * view's current version), in version order. Read by `_id` (the
   * deterministic `<reservationId>:<version>`): FerretDB finds efficiently only
   * by `_id`, and a reservation has a handful of versions. A version whose
   * record is not written yet (the projector logs just before it publishes)
   * is simply absent: its live message is still to come.
   */
  async changesOf(reservationId: string, after: number, upTo?: number): Promise<ViewSnapshot[]> {
    const last = upTo ?? (await this.get(reservationId))?.version ?? 0;
    const versions: number[] = [];
    for (let v = after + 1; v <= last; v += 1) versions.push(v);
    const found: ViewSnapshot[] = [];
    for (let i = 0; i < versions.length; i += 20) {
      const docs = await Promise.all(
        versions.slice(i, i + 20).map((v) => this.models.changes.findById(changeId(reservationId, v)).lean<ChangeDoc>()),
      );
      for (const d of docs) if (d) found.push(d.snapshot);
    }
    return found;
  }

  /** Changes of a customer's reservations after feed position `after`, in feed order. */
  async changesOfCustomer(customerId: string, after: number, limit = 1000): Promise<ViewSnapshot[]> {
    const docs = await this.models.changes
      .find({ customerId, sequence: { $gt: after } })
      .sort({ sequence: 1 })
      .limit(limit)
      .lean<ChangeDoc[]>();
    return docs.map((d) => d.snapshot);
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
    const page = cursor
      ? { ...filter, $or: [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, _id: { $lt: cursor.id } }] }
      : filter;
    const [docs, totalCount] = await Promise.all([
      this.models.views.find(page).sort({ createdAt: -1, _id: -1 }).limit(first + 1).lean<ViewDoc[]>(),
      this.models.views.countDocuments(filter),
    ]);
    return { views: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
  }
}
