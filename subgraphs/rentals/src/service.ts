/**
 * The rentals use cases: charge, refund, hand-over, return, and the event
 * handlers' effects. Resolvers do authorization and call this; the worker
 * calls it for events. Domain rules come from `domain/`, storage from `data/`.
 *
 * ## Charging: one insert, no read
 * The provider's `reference` (the reservation id) is an idempotency key: a
 * repeated charge returns the first answer and moves no money twice, and a
 * refund gives back what was charged under it (`payments/provider.ts`). So
 * rentals need not lock before it calls the provider; the record is written
 * once, after the answer:
 * 1. Validate (ids, amount, quantity, token shape, token known to the provider).
 * 2. `provider.charge({ reference: reservationId })` with an AbortSignal and a
 *    timeout of `PAYMENT_PROVIDER_TIMEOUT_MS`; no answer in time (or a
 *    provider error) is the outcome `FAILED`.
 * 3. ONE insert of the complete rental with that outcome, `_id =
 *    rentalIdFor(reservationId)`: PAID → rental `AWAITING_PICKUP`; DECLINED or
 *    FAILED → rental `CANCELLED`. The answer is the inserted document. That is
 *    the whole normal path: one write, no read.
 * 4. Only when the insert fails on `_id` (a saga retry, a concurrent
 *    duplicate, a charge later than a refund) is the record read, and
 *    answered after {@link duplicateChargeSteps}:
 *    - `PAID`/`REFUNDED`: answered as it is (this attempt moved no money);
 *    - `DECLINED`/`FAILED` while this attempt got `PAID` (the first attempt
 *      gave up, the provider charged after all): the money is given back,
 *      the record answered;
 *    - `VOIDED` (a refund came first): a `PAID` answer is given back at the
 *      provider, then ONE conditional update records the charge on the marker
 *      (`REFUNDED`, or the decline/failure) and that is the answer. If the
 *      provider does not confirm the give-back: `SERVICE_UNAVAILABLE`, the
 *      marker stays, and any later charge or refund of the reservation gives
 *      the money back.
 *    Nobody waits for anybody: there is no in-flight state to poll.
 *
 * ## Refunding
 * - No record yet (the saga gave up on a slow charge, or the charging process
 *   died after the provider charged but before the insert): insert a `VOIDED`
 *   marker (the rental `CANCELLED`, no payment) first, so a late charge's
 *   insert fails and that charge gives its money back (above); then void at
 *   the provider by reference (gives back a charge made before a crash; moves
 *   nothing otherwise) and answer `null`: no payment is recorded. A refund
 *   that finds the marker voids again (idempotent) and answers `null`.
 * - `PAID` + `AWAITING_PICKUP`: ONE conditional update to `CANCELLED` (the
 *   arbiter against hand-over), then the provider's refund, then ONE
 *   conditional update `PAID` → `REFUNDED`.
 * - `PAID` + `CANCELLED` (another refund is giving the money back, or died
 *   doing it): refund at the provider too (idempotent: the money goes back
 *   once) and record `REFUNDED` unless the other did first. No lease, no wait.
 * - `PAID` + `ACTIVE`/`RETURNED`: `INVALID_STATE` ("already handed over").
 * - `DECLINED`, `FAILED`, `REFUNDED`: answered as they are.
 *
 * ## Refund versus hand-over
 * `startRental` is ONE conditional update (`AWAITING_PICKUP` +
 * `readyForPickup` + `PAID` → `ACTIVE`, `RentalStarted` in the same update),
 * the refund's cancel another from `AWAITING_PICKUP`. The database applies one
 * single-document update at a time, so exactly one can win; the other matches
 * nothing and answers `INVALID_STATE`. No lock is involved, so the API
 * process (`startRental`, `refundPayment`) and the worker
 * (`ReservationCancelled`) arbitrate through the document alone.
 *
 * ## Crashes
 * - Before the provider call: nothing happened; the saga's compensating
 *   refund leaves a marker and a void that moves nothing.
 * - After the provider charged, before the insert: the compensating refund's
 *   void (by reference) gives the money back; a later retry of the charge
 *   meets the marker and answers `REFUNDED`.
 * - After the refund's cancel, before `REFUNDED`: the next refund call (saga
 *   retry, the `ReservationCancelled` consumer) finds `CANCELLED` + `PAID` and
 *   completes it at once.
 * - Not covered here: a charge the provider executes only after the charging
 *   process died and after the compensating void, or a late charger dying
 *   between its `PAID` answer and its give-back. Rentals never learns of
 *   such a charge; only a reconciliation against the provider's records can.
 */
import { badInput, DomainError, invalidState, notFound } from '@rental/errors';
import { createEvent, type OutboxRelay } from '@rental/events';
import type { Logger } from '@rental/observability';
import {
  CURRENCY,
  PROVIDER_ERROR_REASON,
  TIMEOUT_REASON,
  canTransition,
  duplicateChargeSteps,
  parsePaymentToken,
  refusalMessage,
  startRefusal,
  validateAmount,
  validateQuantity,
} from './domain/index.js';
import { chargedRental, isVoidMarker, type ChargeOutcome, type NewCharge, type RentalDoc, type RentalsData } from './data/index.js';
import { ProviderTimeoutError, callWithTimeout, type PaymentProvider, type RefundRequest } from './payments/index.js';

export interface ChargeInput {
  reservationId: string;
  customerId: string;
  storeId: string;
  itemId: string;
  quantity: number;
  amount: number;
  paymentToken: string;
}

export interface RentalsServiceOptions {
  data: RentalsData;
  provider: PaymentProvider;
  /** `PAYMENT_PROVIDER_TIMEOUT_MS`: how long a charge or refund waits for the provider. */
  providerTimeoutMs: number;
  /** The shared outbox relay: publishes a rental's outbox right after its write. */
  relay?: OutboxRelay;
  logger: Logger;
}

const MAX_ID_LENGTH = 128;

function requireId(field: string, value: string): string {
  const v = typeof value === 'string' ? value.trim() : '';
  if (!v) throw badInput(field, 'is required');
  if (v.length > MAX_ID_LENGTH) throw badInput(field, `must be at most ${MAX_ID_LENGTH} characters`);
  if (!/^[A-Za-z0-9_-]+$/.test(v)) throw badInput(field, 'may contain only letters, digits, _ and -');
  return v;
}

export class RentalsService {
  private readonly data: RentalsData;
  private readonly provider: PaymentProvider;
  private readonly timeoutMs: number;
  private readonly relay: OutboxRelay | undefined;
  private readonly log: Logger;

  constructor(options: RentalsServiceOptions) {
    this.data = options.data;
    this.provider = options.provider;
    this.timeoutMs = options.providerTimeoutMs;
    this.relay = options.relay;
    this.log = options.logger;
  }

  // ---------------------------------------------------------------- charge

  /** `chargePayment`: the rental with its payment as recorded (see the module comment). */
  async charge(input: ChargeInput): Promise<RentalDoc> {
    const charge: NewCharge = {
      reservationId: requireId('reservationId', input.reservationId),
      customerId: requireId('customerId', input.customerId),
      storeId: requireId('storeId', input.storeId),
      itemId: requireId('itemId', input.itemId),
      quantity: validateQuantity(input.quantity),
      amount: validateAmount(input.amount),
      currency: CURRENCY,
      provider: this.provider.name,
    };
    const token = parsePaymentToken(input.paymentToken);
    if (!this.provider.supportsToken(token)) throw badInput('paymentToken', 'is not a known payment token');

    const outcome = await this.askProvider(charge, token);
    const rental = chargedRental(charge, outcome);
    if (await this.data.insertRental(rental)) {
      this.log.info(
        { reservationId: charge.reservationId, rentalId: rental._id, status: outcome.status, amount: charge.amount },
        'payment charged',
      );
      return rental;
    }
    return this.answerRecorded(rental, outcome);
  }

  /** The provider's answer to the charge, or `FAILED` when it gave none in time (or failed). */
  private async askProvider(charge: NewCharge, token: string): Promise<ChargeOutcome> {
    const { reservationId } = charge;
    try {
      const answer = await callWithTimeout(this.timeoutMs, (signal) =>
        this.provider.charge({ reference: reservationId, amount: charge.amount, currency: charge.currency, token, signal }),
      );
      return { status: answer.status, reason: answer.status === 'PAID' ? null : (answer.reason ?? 'declined'), providerRef: answer.providerRef };
    } catch (err) {
      if (err instanceof ProviderTimeoutError) {
        this.log.warn({ reservationId, timeoutMs: this.timeoutMs }, 'payment provider timed out');
        return { status: 'FAILED', reason: TIMEOUT_REASON, providerRef: null };
      }
      this.log.error({ err, reservationId }, 'payment provider error');
      return { status: 'FAILED', reason: PROVIDER_ERROR_REASON, providerRef: null };
    }
  }

  /**
   * A charge whose insert failed on `_id`: the reservation already has its
   * record. Reads it, gives back money the record does not account for, and
   * answers the record (a late charge on a void marker records itself first).
   */
  private async answerRecorded(attempt: RentalDoc, outcome: ChargeOutcome): Promise<RentalDoc> {
    const { reservationId } = attempt;
    const recorded = await this.data.findById(attempt._id);
    if (!recorded) throw new Error(`rental ${attempt._id} refused a second insert but cannot be read`);
    const steps = duplicateChargeSteps(recorded.payment.status, outcome.status);
    let refundRef: string | null = null;
    if (steps.giveBack) {
      this.log.warn({ reservationId, recorded: recorded.payment.status }, 'provider charged a reservation recorded as not paid; giving the money back');
      refundRef = await this.refundAtProvider({
        reference: reservationId,
        providerRef: outcome.providerRef,
        amount: attempt.payment.amount,
        currency: attempt.payment.currency,
      });
    }
    if (isVoidMarker(recorded)) {
      const late = steps.recordOnVoid && (await this.data.recordLateCharge(recorded._id, attempt, steps.recordOnVoid, refundRef));
      if (late) this.log.info({ reservationId, status: late.payment.status }, 'late charge after a refund recorded');
      // Null: a concurrent late duplicate recorded it first; answer that.
      return late || this.reread(recorded._id);
    }
    if (recorded.payment.amount !== attempt.payment.amount || recorded.customerId !== attempt.customerId) {
      this.log.warn({ reservationId }, 'repeated charge differs from the first; answering the first');
    }
    return recorded;
  }

  // ---------------------------------------------------------------- refund

  /**
   * `refundPayment`: refunds the reservation's payment and cancels its rental.
   * `null` when no charge is recorded (a void marker is left, see the module
   * comment); the payment as it is when there is nothing to refund (declined,
   * failed, already refunded); `INVALID_STATE` once handed over.
   */
  async refund(rawReservationId: string): Promise<RentalDoc | null> {
    const reservationId = requireId('reservationId', rawReservationId);
    let doc = await this.data.findByReservation(reservationId);
    if (!doc) {
      if (await this.data.insertVoidMarker(reservationId)) {
        this.log.info({ reservationId }, 'refund before any recorded charge: reservation voided');
        await this.voidAtProvider(reservationId);
        return null;
      }
      // A charge (or another refund's marker) was inserted meanwhile.
      doc = await this.data.findByReservation(reservationId);
      if (!doc) throw new Error(`rental for reservation ${reservationId} refused an insert but cannot be read`);
    }
    // States only move forward (AWAITING_PICKUP → ACTIVE | CANCELLED, PAID →
    // REFUNDED), so this loop turns at most twice.
    for (;;) {
      if (isVoidMarker(doc)) {
        await this.voidAtProvider(reservationId);
        return null;
      }
      if (doc.payment.status !== 'PAID') return doc; // DECLINED, FAILED, REFUNDED: nothing (more) to refund
      if (doc.status === 'CANCELLED') return this.giveBack(doc);
      if (!canTransition(doc.status, 'cancel')) throw invalidState(refusalMessage(doc.status, 'cancel'));
      const cancelled = await this.data.cancelForRefund(doc._id);
      if (cancelled) return this.giveBack(cancelled);
      // Lost a race (a hand-over, another refund): look again.
      doc = await this.reread(doc._id);
    }
  }

  /** A cancelled rental with its payment still `PAID`: gives the money back and records `REFUNDED`. */
  private async giveBack(doc: RentalDoc): Promise<RentalDoc> {
    const { payment, reservationId } = doc;
    const refundRef = await this.refundAtProvider({
      reference: reservationId,
      providerRef: payment.providerRef,
      amount: payment.amount,
      currency: payment.currency,
    });
    const refunded = await this.data.markRefunded(doc._id, refundRef);
    if (refunded) {
      this.log.info({ reservationId, rentalId: doc._id, amount: payment.amount }, 'payment refunded');
      return refunded;
    }
    return this.reread(doc._id); // a concurrent refund recorded it first
  }

  /** Voids the reservation at the provider: gives back whatever was charged under it, if anything. */
  private async voidAtProvider(reservationId: string): Promise<void> {
    await this.refundAtProvider({ reference: reservationId, providerRef: null, amount: null, currency: CURRENCY });
  }

  /**
   * The provider's refund, with the provider timeout; its refund id. When the
   * provider does not confirm: `SERVICE_UNAVAILABLE`, and the record keeps
   * saying the money is owed back, so a retry (saga, consumer) gives it back.
   */
  private async refundAtProvider(request: Omit<RefundRequest, 'signal'>): Promise<string> {
    try {
      const answer = await callWithTimeout(this.timeoutMs, (signal) => this.provider.refund({ ...request, signal }));
      return answer.providerRef;
    } catch (err) {
      this.log.error({ err, reservationId: request.reference }, 'refund failed at the provider');
      throw new DomainError('SERVICE_UNAVAILABLE', 'payment provider did not confirm the refund; try again', { retryAfterSeconds: 1 });
    }
  }

  /**
   * The rental as it is now, where a charge is known to be recorded (documents
   * are never deleted, and a recorded charge never goes back to a marker).
   */
  private async reread(id: string): Promise<RentalDoc> {
    const doc = await this.data.findById(id);
    if (!doc || isVoidMarker(doc)) throw new Error(`rental ${id} should hold a recorded charge`);
    return doc;
  }

  // ---------------------------------------------------------------- hand-over and return

  /** Hand-over. `authorize` checks the caller against the rental's store before anything changes. */
  async start(rawReservationId: string, authorize: (rental: RentalDoc) => void, requestId?: string): Promise<RentalDoc> {
    const reservationId = requireId('reservationId', rawReservationId);
    const doc = await this.data.findByReservation(reservationId);
    if (!doc || isVoidMarker(doc)) throw notFound('rental for reservation', reservationId);
    authorize(doc);
    const refusal = startRefusal({ state: doc.status, readyForPickup: doc.readyForPickup, paymentStatus: doc.payment.status });
    if (refusal) throw invalidState(refusal);
    const event = createEvent('RentalStarted', { rentalId: doc._id, reservationId }, requestId ? { requestId } : {});
    const started = await this.data.start(doc._id, event);
    if (!started) {
      const now = await this.reread(doc._id);
      const why = startRefusal({ state: now.status, readyForPickup: now.readyForPickup, paymentStatus: now.payment.status });
      throw invalidState(why ?? 'rental changed meanwhile; try again');
    }
    this.relay?.flushSoon(started._id, this.data.model);
    this.log.info({ reservationId, rentalId: started._id }, 'rental started');
    return started;
  }

  /** Return. `authorize` checks the caller against the rental's store before anything changes. */
  async return(rawRentalId: string, authorize: (rental: RentalDoc) => void, requestId?: string): Promise<RentalDoc> {
    const rentalId = requireId('rentalId', rawRentalId);
    const doc = await this.data.findById(rentalId);
    if (!doc || isVoidMarker(doc)) throw notFound('rental', rentalId);
    authorize(doc);
    if (doc.status !== 'ACTIVE') throw invalidState(refusalMessage(doc.status, 'return'));
    const event = createEvent(
      'RentalReturned',
      { rentalId, reservationId: doc.reservationId, itemId: doc.itemId, quantity: doc.quantity },
      requestId ? { requestId } : {},
    );
    const returned = await this.data.markReturned(doc._id, event);
    if (!returned) {
      const now = await this.data.findById(rentalId);
      throw invalidState(refusalMessage(now?.status ?? doc.status, 'return'));
    }
    this.relay?.flushSoon(returned._id, this.data.model);
    this.log.info({ reservationId: doc.reservationId, rentalId }, 'rental returned');
    return returned;
  }

  // ---------------------------------------------------------------- events

  /** `StoreOrderPrepared`: the store has the items ready; idempotent per event id. */
  async markReady(reservationId: string, eventId: string, log: Logger = this.log): Promise<void> {
    const changed = await this.data.markReady(reservationId, eventId);
    if (changed) return;
    const doc = await this.data.findByReservation(reservationId);
    if (!doc) log.warn({ reservationId }, 'StoreOrderPrepared for a reservation without a rental; ignored');
    else log.debug({ reservationId }, 'StoreOrderPrepared already processed');
  }

  /** `ReservationCancelled`: refund if the rental was not handed over; idempotent per event id. */
  async cancelFromEvent(reservationId: string, eventId: string, log: Logger = this.log): Promise<void> {
    const before = await this.data.findByReservation(reservationId);
    if (!before) {
      log.info({ reservationId }, 'ReservationCancelled for a reservation without a rental; nothing to refund');
      return;
    }
    if (before.processedEvents?.[eventId] === true) return;
    try {
      await this.refund(reservationId);
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'INVALID_STATE')) throw err; // retried by the queue
      log.warn({ reservationId, reason: err.message }, 'ReservationCancelled after hand-over; not refunded');
    }
    await this.data.markEventProcessed(reservationId, eventId);
  }
}
