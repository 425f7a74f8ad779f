/**
 * Data access of the reservations subgraph. Every status change is ONE
 * conditional `findOneAndUpdate` from the expected status: `$set status`,
 * `$push history`, plus the events of the change in the outbox (`withOutbox`)
 * and, for a consumed event, `markProcessed` guarded by `notProcessed`. No
 * read-modify-write, no transactions: FerretDB 1.24 compatible.
 *
 * The two writes of every reservation (the PENDING insert and each move) go
 * to the driver directly (`model.collection`): mongoose's document building,
 * casting and validation cost CPU on every reservation and add nothing here
 * (the values are built by this code from validated input). The schema stays
 * the contract of what is stored; the saga tests check stored documents
 * against it. `updatedAt` is set here, as mongoose's timestamps would.
 */
import { withOutbox, type DomainEvent } from '@rental/events';
import type { Transition } from '../domain/index.js';
import type { HistoryEntry, ReservationDoc, ReservationModel } from './reservation-model.js';

/** The fields of a new reservation. */
export type NewReservation = Pick<
  ReservationDoc,
  '_id' | 'customerId' | 'itemId' | 'itemName' | 'storeId' | 'quantity' | 'startDate' | 'endDate' | 'days' | 'requestId'
>;

export interface MoveOptions {
  /** More fields to `$set` with the status. */
  set?: Record<string, unknown>;
  /** Events to write in the same update (the outbox). */
  events?: readonly DomainEvent[];
  /** More conditions on the document, besides `_id` and the `from` status. */
  filter?: Record<string, unknown>;
  at?: Date;
}

/** Filter of the saga's own writes on a PENDING reservation: the sweeper has not taken it over. */
export const SAGA_OWNS = { settlingSince: null } as const;

export class ReservationsData {
  constructor(readonly model: ReservationModel) {}

  /** Inserts a PENDING reservation with its first history entry (one insert, with the driver). */
  async insertPending(fields: NewReservation, at: Date = new Date()): Promise<ReservationDoc> {
    const doc: ReservationDoc = {
      ...fields,
      status: 'PENDING',
      history: [{ status: 'PENDING', at, reason: null }],
      dailyRate: null,
      totalPrice: null,
      settlingSince: null,
      outbox: {},
      outboxCount: 0,
      processedEvents: {},
      createdAt: at,
      updatedAt: at,
    };
    await this.model.collection.insertOne(doc as never);
    return doc;
  }

  async findById(id: string): Promise<ReservationDoc | null> {
    return this.model.findById(id).lean<ReservationDoc>();
  }

  /** Reservations by id, in the order of `ids`, null where there is none: one `$in` read (the DataLoader batch function). */
  async findByIds(ids: readonly string[]): Promise<(ReservationDoc | null)[]> {
    const docs = await this.model.find({ _id: { $in: [...new Set(ids)] } }).lean<ReservationDoc[]>();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * Applies `steps` (consecutive legal transitions, checked by the domain's
   * `transition()`) as one conditional update from `steps[0].from`. Resolves
   * to the updated document, or null when the reservation is not (or no
   * longer) in that status or fails `options.filter`: nothing changed then.
   */
  async move(id: string, steps: readonly Transition[], options: MoveOptions = {}): Promise<ReservationDoc | null> {
    const first = steps[0];
    const last = steps[steps.length - 1];
    if (!first || !last) throw new Error('move: no steps');
    for (let i = 1; i < steps.length; i += 1) {
      if (steps[i]!.from !== steps[i - 1]!.to) throw new Error('move: steps are not consecutive');
    }
    const at = options.at ?? new Date();
    const entries: HistoryEntry[] = steps.map((s) => ({ status: s.to, at, reason: s.reason ?? null }));
    const update = withOutbox(
      {
        $set: { status: last.to, updatedAt: at, ...(options.set ?? {}) },
        $push: { history: { $each: entries } },
      },
      options.events ?? [],
    );
    const doc = await this.model.collection.findOneAndUpdate({ ...(options.filter ?? {}), _id: id as never, status: first.from }, update as never, {
      returnDocument: 'after',
    });
    return doc as unknown as ReservationDoc | null;
  }

  /**
   * The sweeper takes a stale PENDING reservation over: from now on the
   * request path's own updates (filtered by {@link SAGA_OWNS}) cannot land.
   */
  async claimStale(id: string, createdBefore: Date, at: Date = new Date()): Promise<boolean> {
    const res = await this.model.updateOne(
      { _id: id, status: 'PENDING', createdAt: { $lt: createdBefore } },
      { $set: { settlingSince: at } },
    );
    return res.matchedCount > 0;
  }

  /** PENDING reservations created before `createdBefore`, oldest first. */
  async findStalePending(createdBefore: Date, limit: number): Promise<ReservationDoc[]> {
    return this.model
      .find({ status: 'PENDING', createdAt: { $lt: createdBefore } })
      .sort({ createdAt: 1 })
      .limit(limit)
      .lean<ReservationDoc[]>();
  }
}
