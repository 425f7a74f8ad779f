/**
 * The reservation saga (docs/ARCHITECTURE.md, "The reservation saga (decisions)").
 *
 * createReservation:
 *   validate → read the item (NOT_FOUND, or lately sold out and still short:
 *   INSUFFICIENT_STOCK, nothing written) → insert PENDING
 *   → items.holdStock   (INSUFFICIENT_STOCK / other domain answer → REJECTED, that error)
 *   → price from the dailyRate holdStock answered
 *   → rentals.chargePayment (DECLINED / FAILED → releaseStock → PAYMENT_FAILED, error PAYMENT_DECLINED)
 *   → CONFIRMED + ReservationConfirmed in the outbox.
 *   A dependency down or slow → compensate what may have happened
 *   (refundPayment, releaseStock: both idempotent) → REJECTED with reason
 *   SERVICE_UNAVAILABLE, error SERVICE_UNAVAILABLE. If a compensation cannot
 *   be done now the reservation stays PENDING and the sweeper settles it.
 *
 * cancelReservation: refundPayment first (rentals refuses with INVALID_STATE
 *   once the rental started: hand-over and cancel cannot both win) →
 *   CANCELLED + ReservationCancelled → releaseStock (best effort: the
 *   ReservationCancelled consumer releases too).
 *
 * Each status change is one conditional update from the expected status; the
 * saga's PENDING → … updates also require that the sweeper has not taken the
 * reservation over (`SAGA_OWNS`).
 *
 * Deadlines: a request's `deadline` bounds everything it waits for. The
 * forward steps (item, hold, charge) must finish {@link COMPENSATION_RESERVE_MS}
 * before it, so a failure still leaves time to compensate; compensation uses
 * the rest. A write to our own database that fails, or does not answer by
 * the deadline, ends the request with SERVICE_UNAVAILABLE (dependency
 * `database`) and compensates nothing: whether it landed is unknown, so the
 * reservation is left to the sweeper, which settles a PENDING one (it
 * compensates both steps) and leaves one that reached its next status.
 */
import { randomUUID } from 'node:crypto';
import type { Identity } from '@rental/auth';
import { DomainError, notFound } from '@rental/errors';
import { createEvent, type DomainEvent } from '@rental/events';
import type { Logger } from '@rental/observability';
import { isDatabaseUnavailable } from '@rental/subgraph-server';
import {
  assertCanCancel,
  assertCanCreate,
  insufficientStock,
  totalPrice,
  transition,
  type Transition,
  validateCreateReservation,
  validateReason,
  validateReservationId,
  type CreateReservationInput,
} from '../domain/index.js';
import { SAGA_OWNS, type MoveOptions, type ReservationDoc, type ReservationsData } from '../data/index.js';
import { DependencyFailure, type CallContext } from './dependency.js';
import type { ItemsClient, StockHold } from './items-client.js';
import type { Payment, RentalsClient } from './rentals-client.js';

/**
 * Publishes the events just written to a reservation's outbox (the caller
 * knows them, so nothing is read); never throws (the relay's sweep retries).
 */
export type Publish = (reservationId: string, events: readonly DomainEvent[]) => Promise<void>;

export interface SagaDeps {
  data: ReservationsData;
  items: ItemsClient;
  rentals: RentalsClient;
  publish: Publish;
  logger: Logger;
  now?: () => Date;
}

export interface RequestContext {
  requestId?: string;
  logger?: Logger;
  /** When the caller stops waiting (epoch ms); none: only each call's own timeout applies. */
  deadline?: number;
}

/**
 * Time kept back from a request's deadline for compensating a failed step (a
 * refund and a release): this much, or a quarter of the time left when the
 * request starts, whichever is less.
 */
export const COMPENSATION_RESERVE_MS = 2_000;

/** Reason recorded when the sweeper settles a reservation whose saga never finished. */
export const STALE_SAGA_REASON = 'SERVICE_UNAVAILABLE: saga did not complete';

/** What may have happened at the dependencies, so what compensation must undo. */
interface Effects {
  hold: boolean;
  charge: boolean;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ReservationSaga {
  private readonly now: () => Date;

  constructor(private readonly deps: SagaDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Runs createReservation for a CUSTOMER; resolves to the CONFIRMED reservation or throws a DomainError. */
  async create(identity: Identity, rawInput: CreateReservationInput, ctx: RequestContext = {}): Promise<ReservationDoc> {
    assertCanCreate(identity);
    const input = validateCreateReservation(rawInput, this.now());
    // Forward steps stop early enough to leave the reserve for compensation (`undo`).
    const reserve = ctx.deadline === undefined ? 0 : Math.min(COMPENSATION_RESERVE_MS, (ctx.deadline - Date.now()) / 4);
    const call: CallContext = { requestId: ctx.requestId, ...(ctx.deadline !== undefined ? { deadline: ctx.deadline - reserve } : {}) };
    const undo: CallContext = { requestId: ctx.requestId, ...(ctx.deadline !== undefined ? { deadline: ctx.deadline } : {}) };
    const { data, items, rentals } = this.deps;

    let item;
    try {
      // An item a hold just found short of stock: its stock is read first, and a request it cannot
      // serve is refused before anything is written, as an unknown item is.
      const fresh = items.wasShort(input.itemId) ? await items.getItem(input.itemId, call) : undefined;
      if (fresh && fresh.stock < input.quantity) throw insufficientStock(fresh.id, input.quantity, fresh.stock);
      item = fresh ?? (await items.getItemFacts(input.itemId, call));
    } catch (err) {
      throw this.toPublic(err);
    }
    if (!item) throw notFound('item', input.itemId);

    const id = randomUUID();
    const log = (ctx.logger ?? this.deps.logger).child({ reservationId: id });
    const pending = {
      _id: id,
      customerId: identity.sub,
      itemId: item.id,
      itemName: item.name,
      storeId: item.storeId,
      quantity: input.quantity,
      startDate: input.startDate,
      endDate: input.endDate,
      days: input.days,
      requestId: ctx.requestId ?? null,
    };
    const doc = await this.stored(data.insertPending(pending, this.now()), ctx.deadline);

    // 1. Take the stock.
    let hold: StockHold;
    try {
      hold = await items.holdStock(id, item.id, input.quantity, call);
    } catch (err) {
      if (err instanceof DomainError) {
        // INSUFFICIENT_STOCK, NOT_FOUND, BAD_USER_INPUT: items took nothing.
        await this.reject(doc, `${err.code}: ${err.message}`, ctx);
        throw err;
      }
      throw await this.abort(doc, { hold: this.maybeApplied(err), charge: false }, err, ctx, log, undo);
    }
    if (hold.released) {
      // The sweeper already settled this reservation and gave the hold back.
      throw await this.abort(doc, { hold: false, charge: false }, new Error('hold already released'), ctx, log, undo);
    }

    // 2. The price, from the rate items answered with the hold.
    let amount: number;
    try {
      amount = totalPrice(input.quantity, hold.item.dailyRate, input.days);
    } catch (err) {
      if (await this.compensate(doc, { hold: true, charge: false }, undo, log)) {
        await this.reject(doc, `${(err as DomainError).code}: ${describe(err)}`, ctx);
      }
      throw err;
    }

    // 3. Charge.
    let payment: Payment;
    try {
      payment = await rentals.chargePayment(
        {
          reservationId: id,
          customerId: identity.sub,
          storeId: item.storeId,
          itemId: item.id,
          quantity: input.quantity,
          amount,
          paymentToken: input.paymentToken,
        },
        call,
      );
    } catch (err) {
      if (err instanceof DomainError) {
        // e.g. BAD_USER_INPUT on paymentToken: nothing was charged; give the stock back.
        if (await this.compensate(doc, { hold: true, charge: false }, undo, log)) {
          await this.reject(doc, `${err.code}: ${err.message}`, ctx, { dailyRate: hold.item.dailyRate, totalPrice: amount });
        }
        throw err;
      }
      throw await this.abort(doc, { hold: true, charge: this.maybeApplied(err) }, err, ctx, log, undo);
    }
    const priced = { dailyRate: hold.item.dailyRate, totalPrice: amount };

    if (payment.status !== 'PAID') {
      // DECLINED, or FAILED (the provider never answered): a decline for the customer.
      // REFUNDED here means the sweeper settled the reservation meanwhile.
      const effects = { hold: true, charge: payment.status === 'REFUNDED' };
      if (!(await this.compensate(doc, effects, undo, log))) throw this.unavailable('items');
      const reason = payment.status === 'DECLINED' ? 'payment declined' : `payment ${payment.status.toLowerCase()}`;
      const failed = await this.move(id, [transition('PENDING', 'PAYMENT_FAILED', reason)], {
        deadline: ctx.deadline,
        set: priced,
        filter: SAGA_OWNS,
        events: [
          createEvent(
            'ReservationPaymentFailed',
            { ...detailsOf(doc, amount), reservationId: id, customerId: identity.sub, reason },
            { requestId: ctx.requestId },
          ),
        ],
      });
      if (!failed) throw this.unavailable('reservations');
      log.info({ paymentStatus: payment.status }, 'reservation payment failed; stock given back');
      throw new DomainError('PAYMENT_DECLINED', `the payment was ${payment.status === 'DECLINED' ? 'declined' : 'not completed'}`, {
        reservationId: id,
        paymentStatus: payment.status,
      });
    }

    // 4. Confirm.
    const confirmed = await this.move(id, [transition('PENDING', 'CONFIRMED')], {
      deadline: ctx.deadline,
      set: priced,
      filter: SAGA_OWNS,
      events: [
        createEvent(
          'ReservationConfirmed',
          { ...detailsOf(doc), totalPrice: amount, reservationId: id, customerId: identity.sub },
          { requestId: ctx.requestId },
        ),
      ],
    });
    if (!confirmed) {
      // The sweeper took the reservation over while this request ran long:
      // undo what this request did (idempotent, the sweeper may do it too).
      log.warn('reservation settled by the sweeper before it could be confirmed; compensating');
      await this.compensate(doc, { hold: true, charge: true }, undo, log);
      throw this.unavailable('reservations');
    }
    log.info({ totalPrice: amount }, 'reservation confirmed');
    return confirmed;
  }

  /** Cancels before hand-over: refund, CANCELLED + ReservationCancelled, release. */
  async cancel(identity: Identity, rawId: string, rawReason: string | null | undefined, ctx: RequestContext = {}): Promise<ReservationDoc> {
    const id = validateReservationId(rawId);
    const reason = validateReason(rawReason);
    const { data, items, rentals } = this.deps;
    const call: CallContext = { requestId: ctx.requestId };
    const log = (ctx.logger ?? this.deps.logger).child({ reservationId: id });

    let doc = await data.findById(id);
    if (!doc) throw notFound('reservation', id);
    assertCanCancel(identity, doc);

    // Rentals decides between hand-over and cancel: once the rental started it refuses.
    try {
      await rentals.refundPayment(id, call);
    } catch (err) {
      throw this.toPublic(err);
    }

    const why = reason ?? `cancelled by ${identity.role === 'CUSTOMER' ? 'the customer' : identity.role.toLowerCase()}`;
    // The status may move under us (CONFIRMED → READY_FOR_PICKUP by the worker): retry from the new one.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const cancelled = await this.move(id, [transition(doc.status, 'CANCELLED', why)], {
        events: [
          createEvent(
            'ReservationCancelled',
            { ...detailsOf(doc), reservationId: id, customerId: doc.customerId, reason: why },
            { requestId: ctx.requestId },
          ),
        ],
      });
      if (cancelled) {
        try {
          await items.releaseStock(id, doc.itemId, call);
        } catch (err) {
          // The ReservationCancelled consumer gives it back when items is reachable again.
          log.warn({ err: describe(err) }, 'cancel: stock release failed; the event consumer will retry it');
        }
        log.info({ by: identity.role }, 'reservation cancelled');
        return cancelled;
      }
      doc = await data.findById(id);
      if (!doc) throw notFound('reservation', id);
      assertCanCancel(identity, doc);
    }
    throw new DomainError('TRY_LATER', 'the reservation is changing, try again', { retryAfterSeconds: 1 });
  }

  /**
   * Settles a PENDING reservation whose saga did not finish (a crash, or
   * compensation that failed): takes it over, compensates both steps, then
   * REJECTED. Resolves to true when it is settled (by this call or already).
   */
  async settleStale(doc: ReservationDoc, createdBefore: Date): Promise<boolean> {
    const log = this.deps.logger.child({ reservationId: doc._id });
    if (!(await this.deps.data.claimStale(doc._id, createdBefore, this.now()))) return true;
    if (!(await this.compensate(doc, { hold: true, charge: true }, {}, log))) return false;
    const rejected = await this.move(doc._id, [transition('PENDING', 'REJECTED', STALE_SAGA_REASON)], {
      events: [
        createEvent('ReservationRejected', {
          ...detailsOf(doc),
          reservationId: doc._id,
          customerId: doc.customerId,
          itemId: doc.itemId,
          reason: STALE_SAGA_REASON,
        }),
      ],
    });
    if (rejected) log.warn('stale PENDING reservation settled: compensated and REJECTED');
    return true;
  }

  /**
   * One conditional move (see `ReservationsData.move`) with its events in the
   * outbox, then their publication; a move that matched nothing publishes nothing.
   */
  private async move(
    id: string,
    steps: readonly Transition[],
    { deadline, ...options }: MoveOptions & { events: readonly DomainEvent[]; deadline?: number },
  ): Promise<ReservationDoc | null> {
    const moved = await this.stored(this.deps.data.move(id, steps, options), deadline);
    if (moved) await this.deps.publish(id, options.events);
    return moved;
  }

  /**
   * A write (or read) of our own database, within `deadline` when there is
   * one: a failure of the database, or no answer in time, becomes
   * SERVICE_UNAVAILABLE (see the module comment for why nothing is
   * compensated then). Other errors pass through.
   */
  private async stored<T>(work: Promise<T>, deadline: number | undefined): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late =
      deadline === undefined
        ? undefined
        : new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new DatabaseLate()), Math.max(0, deadline - Date.now()));
          });
    work.catch(() => undefined); // settles after a timeout: not an unhandled rejection
    try {
      return await (late ? Promise.race([work, late]) : work);
    } catch (err) {
      if (err instanceof DatabaseLate || isDatabaseUnavailable(err)) {
        throw new DomainError('SERVICE_UNAVAILABLE', 'the reservation could not be recorded, try again later', {
          dependency: 'database',
          retryAfterSeconds: 5,
        });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** PENDING → REJECTED with ReservationRejected, by the request path. */
  private async reject(doc: ReservationDoc, reason: string, ctx: RequestContext, set: Record<string, unknown> = {}): Promise<void> {
    await this.move(doc._id, [transition('PENDING', 'REJECTED', reason)], {
      deadline: ctx.deadline,
      set,
      filter: SAGA_OWNS,
      events: [
        createEvent(
          'ReservationRejected',
          { ...detailsOf(doc, (set.totalPrice as number | undefined) ?? doc.totalPrice ?? null), reservationId: doc._id, customerId: doc.customerId, itemId: doc.itemId, reason },
          { requestId: ctx.requestId },
        ),
      ],
    });
  }

  /**
   * A dependency failed without a domain answer: undo what may have happened,
   * then REJECTED (reason SERVICE_UNAVAILABLE). Returns the error to throw.
   */
  private async abort(doc: ReservationDoc, effects: Effects, err: unknown, ctx: RequestContext, log: Logger, undo: CallContext): Promise<Error> {
    const failure =
      err instanceof DependencyFailure ? err : new DependencyFailure('items', 'network', describe(err), true, false);
    log.warn({ dependency: failure.dependency, kind: failure.kind, err: failure.message, effects }, 'saga step failed; compensating');
    if (await this.compensate(doc, effects, undo, log)) {
      await this.reject(doc, `SERVICE_UNAVAILABLE: ${failure.message}`, ctx);
    }
    // Not compensated: the reservation stays PENDING and the sweeper settles it.
    return err instanceof DependencyFailure ? err.toDomainError() : (err as Error);
  }

  /**
   * Undoes what may have happened, most recent first: refund, then release.
   * Both are idempotent and safe when nothing was done. Resolves to false
   * when a dependency could not be reached (try again later).
   */
  private async compensate(doc: ReservationDoc, effects: Effects, call: CallContext, log: Logger): Promise<boolean> {
    let done = true;
    if (effects.charge) {
      try {
        await this.deps.rentals.refundPayment(doc._id, call);
      } catch (err) {
        if (err instanceof DomainError && err.code !== 'TRY_LATER') {
          log.error({ err: err.message, code: err.code }, 'compensation: rentals refused the refund');
        } else {
          log.warn({ err: describe(err) }, 'compensation: refund failed; will retry');
          done = false;
        }
      }
    }
    if (effects.hold) {
      try {
        await this.deps.items.releaseStock(doc._id, doc.itemId, call);
      } catch (err) {
        if (err instanceof DomainError && err.code !== 'TRY_LATER') {
          log.error({ err: err.message, code: err.code }, 'compensation: items refused the release');
        } else {
          log.warn({ err: describe(err) }, 'compensation: stock release failed; will retry');
          done = false;
        }
      }
    }
    return done;
  }

  private maybeApplied(err: unknown): boolean {
    return err instanceof DependencyFailure ? err.maybeApplied : true;
  }

  private toPublic(err: unknown): unknown {
    return err instanceof DependencyFailure ? err.toDomainError() : err;
  }

  private unavailable(dependency: string): DomainError {
    return new DomainError('SERVICE_UNAVAILABLE', 'the reservation could not be completed, try again later', {
      dependency,
      retryAfterSeconds: 5,
    });
  }
}

/** Our database did not answer before the request's deadline. */
class DatabaseLate extends Error {
  constructor() {
    super('the database did not answer before the deadline');
    this.name = 'DatabaseLate';
  }
}

/**
 * The reservation's own facts, carried by its events so the customer view can
 * show it from whichever event it sees first.
 */
function detailsOf(doc: ReservationDoc, totalPrice: number | null = doc.totalPrice ?? null) {
  return {
    itemId: doc.itemId,
    itemName: doc.itemName,
    storeId: doc.storeId,
    quantity: doc.quantity,
    startDate: doc.startDate,
    endDate: doc.endDate,
    totalPrice,
    createdAt: new Date(doc.createdAt).toISOString(),
  };
}
