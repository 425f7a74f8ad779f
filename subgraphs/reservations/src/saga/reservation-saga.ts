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
  type ValidReservationRequest,
} from '../domain/index.js';
import { SAGA_OWNS, type MoveOptions, type ReservationDoc, type ReservationsData } from '../data/index.js';
import { DependencyFailure, type CallContext } from './dependency.js';
import type { ItemFacts, ItemsClient, StockHold } from './items-client.js';
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
const NOTHING: Effects = { hold: false, charge: false };
const HELD: Effects = { hold: true, charge: false };
const HELD_AND_CHARGED: Effects = { hold: true, charge: true };

/** One createReservation as it runs: the request, its reservation's id, its logger and deadlines. */
interface CreateRun {
  id: string;
  identity: Identity;
  input: ValidReservationRequest;
  ctx: RequestContext;
  /** The forward steps' calls: the request's deadline less the compensation reserve. */
  call: CallContext;
  /** The compensation's calls: the whole deadline. */
  undo: CallContext;
  log: Logger;
}

/** The price fields a reservation gets from its hold (a type alias, not an interface, so it fits `MoveOptions.set`). */
type Priced = { dailyRate: number; totalPrice: number };

/** How a step of createReservation that failed after the PENDING insert ends the reservation (see `create`). */
interface Ending {
  /** What may have happened at the dependencies: undone first. */
  undo: Effects;
  /** Once undone: the reservation's last status change (none: the sweeper owns it). May throw instead of `answer`. */
  settle?: () => Promise<void>;
  /** What the client gets. */
  answer: unknown;
  /** What the client gets when the undo cannot be done now (the sweeper settles it); `answer` when not given. */
  answerIfNotUndone?: unknown;
}

/** Thrown by a step of createReservation: its {@link Ending}. Never leaves the saga. */
class StepFailed extends Error {
  constructor(readonly ending: Ending) {
    super('reservation saga step failed');
    this.name = 'StepFailed';
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ReservationSaga {
  private readonly now: () => Date;

  constructor(private readonly deps: SagaDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * createReservation for a CUSTOMER: resolves to the CONFIRMED reservation
   * or throws a DomainError. The steps, in order; what each one's failure
   * undoes (refund first, then release) and how the reservation ends:
   *
   *   step           fails with                 undo                          ends
   *   readItem       NOT_FOUND, sold out,       (nothing written yet)         –, that error
   *                  no answer                                                –, SERVICE_UNAVAILABLE
   *   insertPending  our database               –                             –, SERVICE_UNAVAILABLE
   *   holdStock      a domain answer            –                             REJECTED, that error
   *                  no answer                  release if it may have held   REJECTED, SERVICE_UNAVAILABLE
   *   price          a domain error             release                       REJECTED, that error
   *   chargePayment  a domain answer            release                       REJECTED (priced), that error
   *                  no answer                  refund if it may have         REJECTED, SERVICE_UNAVAILABLE
   *                                             charged, release
   *   (its answer)   DECLINED / FAILED          release (refund if REFUNDED)  PAYMENT_FAILED, PAYMENT_DECLINED
   *   confirm        the sweeper took over      refund, release               –, SERVICE_UNAVAILABLE
   *
   * An undo that cannot be done now leaves the reservation PENDING for the
   * sweeper; the answer is the step's own, SERVICE_UNAVAILABLE (items) for
   * a payment not made. A failure of our own database after the insert
   * passes through as SERVICE_UNAVAILABLE and undoes nothing (module comment).
   */
  async create(identity: Identity, rawInput: CreateReservationInput, ctx: RequestContext = {}): Promise<ReservationDoc> {
    const run = this.begin(identity, rawInput, ctx);
    const item = await this.readItem(run);
    const doc = await this.insertPending(run, item);
    try {
      const hold = await this.holdStock(run, doc);
      const priced = this.price(run, doc, hold);
      const payment = await this.chargePayment(run, doc, priced);
      if (payment.status !== 'PAID') throw this.paymentNotMade(run, doc, priced, payment);
      return await this.confirm(run, doc, priced);
    } catch (err) {
      throw await this.endFailed(run, doc, err);
    }
  }

  /** Checks who asks and what, and gives the request its id, logger and the deadlines of its forward steps and of its compensation. */
  private begin(identity: Identity, rawInput: CreateReservationInput, ctx: RequestContext): CreateRun {
    assertCanCreate(identity);
    const input = validateCreateReservation(rawInput, this.now());
    // Forward steps stop early enough to leave the reserve for compensation (`undo`).
    const reserve = ctx.deadline === undefined ? 0 : Math.min(COMPENSATION_RESERVE_MS, (ctx.deadline - Date.now()) / 4);
    const id = randomUUID();
    return {
      id,
      identity,
      input,
      ctx,
      call: { requestId: ctx.requestId, ...(ctx.deadline !== undefined ? { deadline: ctx.deadline - reserve } : {}) },
      undo: { requestId: ctx.requestId, ...(ctx.deadline !== undefined ? { deadline: ctx.deadline } : {}) },
      log: (ctx.logger ?? this.deps.logger).child({ reservationId: id }),
    };
  }

  /**
   * The item's name and store, before anything is written. An item a hold
   * just found short of stock has its stock read first, and a request it
   * cannot serve is refused here, as an unknown item is.
   */
  private async readItem({ input, call }: CreateRun): Promise<ItemFacts> {
    const { items } = this.deps;
    let item: ItemFacts | null;
    try {
      const fresh = items.wasShort(input.itemId) ? await items.getItem(input.itemId, call) : undefined;
      if (fresh && fresh.stock < input.quantity) throw insufficientStock(fresh.id, input.quantity, fresh.stock);
      item = fresh ?? (await items.getItemFacts(input.itemId, call));
    } catch (err) {
      throw this.toPublic(err);
    }
    if (!item) throw notFound('item', input.itemId);
    return item;
  }

  /** The PENDING reservation, written before any dependency is asked to do anything. */
  private insertPending({ id, identity, input, ctx }: CreateRun, item: ItemFacts): Promise<ReservationDoc> {
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
    return this.stored(this.deps.data.insertPending(pending, this.now()), ctx.deadline);
  }

  /** Takes the stock. A domain answer (INSUFFICIENT_STOCK, NOT_FOUND, BAD_USER_INPUT) means items took nothing. */
  private async holdStock(run: CreateRun, doc: ReservationDoc): Promise<StockHold> {
    let hold: StockHold;
    try {
      hold = await this.deps.items.holdStock(run.id, doc.itemId, run.input.quantity, run.call);
    } catch (err) {
      if (err instanceof DomainError) throw new StepFailed({ undo: NOTHING, settle: this.rejecting(run, doc, `${err.code}: ${err.message}`), answer: err });
      throw this.dependencyFailed(run, doc, { hold: this.maybeApplied(err), charge: false }, err);
    }
    // The sweeper already settled this reservation and gave the hold back.
    if (hold.released) throw this.dependencyFailed(run, doc, NOTHING, new Error('hold already released'));
    return hold;
  }

  /** The price, from the daily rate items answered with the hold (never from a cache). */
  private price(run: CreateRun, doc: ReservationDoc, hold: StockHold): Priced {
    try {
      return { dailyRate: hold.item.dailyRate, totalPrice: totalPrice(run.input.quantity, hold.item.dailyRate, run.input.days) };
    } catch (err) {
      throw new StepFailed({ undo: HELD, settle: this.rejecting(run, doc, `${(err as DomainError).code}: ${describe(err)}`), answer: err });
    }
  }

  /** Charges the customer; a decline is an answer (`status`), not an error. */
  private async chargePayment(run: CreateRun, doc: ReservationDoc, priced: Priced): Promise<Payment> {
    const { id, identity, input } = run;
    const charge = {
      reservationId: id,
      customerId: identity.sub,
      storeId: doc.storeId,
      itemId: doc.itemId,
      quantity: input.quantity,
      amount: priced.totalPrice,
      paymentToken: input.paymentToken,
    };
    try {
      return await this.deps.rentals.chargePayment(charge, run.call);
    } catch (err) {
      // e.g. BAD_USER_INPUT on paymentToken: nothing was charged; give the stock back.
      if (err instanceof DomainError) throw new StepFailed({ undo: HELD, settle: this.rejecting(run, doc, `${err.code}: ${err.message}`, priced), answer: err });
      throw this.dependencyFailed(run, doc, { hold: true, charge: this.maybeApplied(err) }, err);
    }
  }

  /**
   * DECLINED, or FAILED (the provider never answered): a decline for the
   * customer, PAYMENT_FAILED once the stock is back. REFUNDED here means the
   * sweeper settled the reservation meanwhile: the refund is asked for again.
   */
  private paymentNotMade(run: CreateRun, doc: ReservationDoc, priced: Priced, payment: Payment): StepFailed {
    const reason = payment.status === 'DECLINED' ? 'payment declined' : `payment ${payment.status.toLowerCase()}`;
    return new StepFailed({
      undo: { hold: true, charge: payment.status === 'REFUNDED' },
      settle: () => this.markPaymentFailed(run, doc, priced, payment, reason),
      answer: new DomainError('PAYMENT_DECLINED', `the payment was ${payment.status === 'DECLINED' ? 'declined' : 'not completed'}`, {
        reservationId: run.id,
        paymentStatus: payment.status,
      }),
      answerIfNotUndone: this.unavailable('items'),
    });
  }

  /** PENDING → PAYMENT_FAILED with ReservationPaymentFailed; SERVICE_UNAVAILABLE when the sweeper took the reservation over. */
  private async markPaymentFailed(run: CreateRun, doc: ReservationDoc, priced: Priced, payment: Payment, reason: string): Promise<void> {
    const failed = await this.move(run.id, [transition('PENDING', 'PAYMENT_FAILED', reason)], {
      deadline: run.ctx.deadline,
      set: priced,
      filter: SAGA_OWNS,
      events: [
        createEvent(
          'ReservationPaymentFailed',
          { ...detailsOf(doc, priced.totalPrice), reservationId: run.id, customerId: run.identity.sub, reason },
          { requestId: run.ctx.requestId },
        ),
      ],
    });
    if (!failed) throw this.unavailable('reservations');
    run.log.info({ paymentStatus: payment.status }, 'reservation payment failed; stock given back');
  }

  /** PENDING → CONFIRMED with ReservationConfirmed, priced. */
  private async confirm(run: CreateRun, doc: ReservationDoc, priced: Priced): Promise<ReservationDoc> {
    const confirmed = await this.move(run.id, [transition('PENDING', 'CONFIRMED')], {
      deadline: run.ctx.deadline,
      set: priced,
      filter: SAGA_OWNS,
      events: [
        createEvent(
          'ReservationConfirmed',
          { ...detailsOf(doc), totalPrice: priced.totalPrice, reservationId: run.id, customerId: run.identity.sub },
          { requestId: run.ctx.requestId },
        ),
      ],
    });
    if (!confirmed) {
      // The sweeper took the reservation over while this request ran long:
      // undo what this request did (idempotent, the sweeper may do it too).
      run.log.warn('reservation settled by the sweeper before it could be confirmed; compensating');
      throw new StepFailed({ undo: HELD_AND_CHARGED, answer: this.unavailable('reservations') });
    }
    run.log.info({ totalPrice: priced.totalPrice }, 'reservation confirmed');
    return confirmed;
  }

  /**
   * Ends a reservation whose step failed; resolves to the error to throw.
   * Undoes what may have happened; once that is done, the step's last status
   * change (which may fail with its own answer), else the reservation stays
   * PENDING for the sweeper. Anything but a {@link StepFailed} (our own
   * database) passes through, undoing nothing.
   */
  private async endFailed(run: CreateRun, doc: ReservationDoc, err: unknown): Promise<unknown> {
    if (!(err instanceof StepFailed)) return err;
    const { undo, settle, answer, answerIfNotUndone = answer } = err.ending;
    if (!(await this.compensate(doc, undo, run.undo, run.log))) return answerIfNotUndone;
    await settle?.();
    return answer;
  }

  /**
   * A dependency failed without a domain answer: undo what may have happened,
   * then REJECTED (reason SERVICE_UNAVAILABLE); the client gets
   * SERVICE_UNAVAILABLE naming the dependency.
   */
  private dependencyFailed(run: CreateRun, doc: ReservationDoc, undo: Effects, err: unknown): StepFailed {
    const failure = err instanceof DependencyFailure ? err : new DependencyFailure('items', 'network', describe(err), true, false);
    run.log.warn({ dependency: failure.dependency, kind: failure.kind, err: failure.message, effects: undo }, 'saga step failed; compensating');
    return new StepFailed({ undo, settle: this.rejecting(run, doc, `SERVICE_UNAVAILABLE: ${failure.message}`), answer: this.toPublic(err) });
  }

  /** The ending "REJECTED with this reason" (and these fields), for a {@link StepFailed}. */
  private rejecting(run: CreateRun, doc: ReservationDoc, reason: string, set: Record<string, unknown> = {}): () => Promise<void> {
    return () => this.reject(doc, reason, run.ctx, set);
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
   * Undoes what may have happened, most recent first: refund, then release.
   * Both are idempotent and safe when nothing was done. Resolves to false
   * when a dependency could not be reached (try again later).
   */
  private async compensate(doc: ReservationDoc, effects: Effects, call: CallContext, log: Logger): Promise<boolean> {
    const refunded = effects.charge ? await this.refundPayment(doc, call, log) : true;
    const released = effects.hold ? await this.releaseStock(doc, call, log) : true;
    return refunded && released;
  }

  /** Compensation: gives the reservation's payment back (rentals moves nothing when nothing was charged). */
  private refundPayment(doc: ReservationDoc, call: CallContext, log: Logger): Promise<boolean> {
    return undone(() => this.deps.rentals.refundPayment(doc._id, call), log, 'rentals refused the refund', 'refund failed; will retry');
  }

  /** Compensation: gives the reservation's stock back (items gives back nothing when it held none). */
  private releaseStock(doc: ReservationDoc, call: CallContext, log: Logger): Promise<boolean> {
    return undone(() => this.deps.items.releaseStock(doc._id, doc.itemId, call), log, 'items refused the release', 'stock release failed; will retry');
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

/**
 * Runs one compensating call. True when it is done, or refused for good (a
 * domain answer other than TRY_LATER: logged as an error, as a retry would
 * be refused too); false when it could not be done now (the sweeper retries).
 */
async function undone(call: () => Promise<unknown>, log: Logger, refused: string, failed: string): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    if (err instanceof DomainError && err.code !== 'TRY_LATER') {
      log.error({ err: err.message, code: err.code }, `compensation: ${refused}`);
      return true;
    }
    log.warn({ err: describe(err) }, `compensation: ${failed}`);
    return false;
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
