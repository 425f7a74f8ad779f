/**
 * The rentals use cases: charge, refund, hand-over, return, and the event
 * handlers' effects. Resolvers do authorization and call this; the worker
 * calls it for events. Domain rules come from `domain/`, storage from `data/`.
 *
 * ## Charging once per reservation, whatever the concurrency
 * 1. Validate (amount, quantity, token shape, token known to the provider).
 * 2. An insert of the rental with payment `PROCESSING`; the unique index on
 *    `reservationId` refuses every other insert (E11000), so exactly one
 *    caller inserts.
 * 3. Only the inserter calls the provider, with an AbortSignal and a timeout of
 *    `PAYMENT_PROVIDER_TIMEOUT_MS`; the answer is recorded with a conditional
 *    update from `PROCESSING` (PAID → rental `AWAITING_PICKUP`; DECLINED, or
 *    FAILED on timeout/provider error → rental `CANCELLED`).
 * 4. Every other caller (a retry, a concurrent duplicate) polls the record
 *    until it is final and answers it, so nobody gets a second charge; if it
 *    stays `PROCESSING` past the wait, it answers `TRY_LATER` (the saga retries).
 * 5. Crash recovery: a `PROCESSING` record older than
 *    `staleProcessingMs(timeout)` means its charger died mid-call. A waiter
 *    takes the charge over with a conditional update on the `attemptStartedAt`
 *    it saw (a lease) and calls the provider again with the same reference,
 *    which a provider answers idempotently (the sandbox derives its reference
 *    from it; real providers have idempotency keys). `providerCalls` counts it.
 *
 * ## Refund versus hand-over
 * A refund first cancels the rental with ONE conditional update
 * (`AWAITING_PICKUP` + `PAID` → `CANCELLED`), then asks the provider, then
 * records `REFUNDED`. `startRental` is ONE conditional update
 * (`AWAITING_PICKUP` + `readyForPickup` + `PAID` → `ACTIVE`, `RentalStarted`
 * in the same update). Both match only `AWAITING_PICKUP` and the database
 * applies one single-document update at a time, so exactly one can win; the
 * other matches nothing and answers `INVALID_STATE`. No lock is involved, so
 * the API process (`startRental`, `refundPayment`) and the worker
 * (`ReservationCancelled`) arbitrate through the document alone. A crash between the cancel and the
 * provider call leaves `CANCELLED` + `PAID`, which the next refund call (the
 * saga retry or the `ReservationCancelled` consumer) completes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { badInput, DomainError, invalidState, notFound } from '@rental/errors';
import { createEvent, type OutboxRelay } from '@rental/events';
import type { Logger } from '@rental/observability';
import {
  CURRENCY,
  PROVIDER_ERROR_REASON,
  TIMEOUT_REASON,
  isFinal,
  parsePaymentToken,
  refusalMessage,
  staleProcessingMs,
  startRefusal,
  validateAmount,
  validateQuantity,
} from './domain/index.js';
import type { ChargeOutcome, RentalDoc, RentalsData } from './data/index.js';
import { ProviderTimeoutError, callWithTimeout, type PaymentProvider } from './payments/index.js';

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
  /** `PAYMENT_PROVIDER_TIMEOUT_MS`. */
  providerTimeoutMs: number;
  /** The shared outbox relay: publishes a rental's outbox right after its write. */
  relay?: OutboxRelay;
  logger: Logger;
  /** How often a duplicate charge re-reads the record while it is PROCESSING. */
  pollMs?: number;
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
  private readonly pollMs: number;

  constructor(options: RentalsServiceOptions) {
    this.data = options.data;
    this.provider = options.provider;
    this.timeoutMs = options.providerTimeoutMs;
    this.relay = options.relay;
    this.log = options.logger;
    this.pollMs = options.pollMs ?? 20;
  }

  // ---------------------------------------------------------------- charge

  async charge(input: ChargeInput): Promise<RentalDoc> {
    const reservationId = requireId('reservationId', input.reservationId);
    const customerId = requireId('customerId', input.customerId);
    const storeId = requireId('storeId', input.storeId);
    const itemId = requireId('itemId', input.itemId);
    const quantity = validateQuantity(input.quantity);
    const amount = validateAmount(input.amount);
    const token = parsePaymentToken(input.paymentToken);
    if (!this.provider.supportsToken(token)) throw badInput('paymentToken', 'is not a known payment token');

    const { doc, inserted } = await this.data.insertProcessing({
      reservationId,
      customerId,
      storeId,
      itemId,
      quantity,
      amount,
      currency: CURRENCY,
      token,
      provider: this.provider.name,
    });
    if (inserted) return this.runCharge(doc);
    if (doc.payment.amount !== amount || doc.customerId !== customerId) {
      this.log.warn({ reservationId }, 'repeated charge differs from the first; answering the first');
    }
    return this.awaitFinalCharge(doc);
  }

  /** Calls the provider (this caller holds the lease) and records its answer. */
  private async runCharge(doc: RentalDoc): Promise<RentalDoc> {
    const { payment } = doc;
    let outcome: ChargeOutcome;
    try {
      const answer = await callWithTimeout(this.timeoutMs, (signal) =>
        this.provider.charge({ reference: doc.reservationId, amount: payment.amount, currency: payment.currency, token: payment.token, signal }),
      );
      outcome = { status: answer.status, reason: answer.status === 'PAID' ? null : (answer.reason ?? 'declined'), providerRef: answer.providerRef };
    } catch (err) {
      if (err instanceof ProviderTimeoutError) {
        this.log.warn({ reservationId: doc.reservationId, timeoutMs: this.timeoutMs }, 'payment provider timed out');
        outcome = { status: 'FAILED', reason: TIMEOUT_REASON, providerRef: null };
      } else {
        this.log.error({ err, reservationId: doc.reservationId }, 'payment provider error');
        outcome = { status: 'FAILED', reason: PROVIDER_ERROR_REASON, providerRef: null };
      }
    }
    const settled = await this.data.settleCharge(doc._id, payment.attemptStartedAt, outcome);
    if (!settled) {
      // Our lease was taken over (we were slower than the stale limit): answer theirs.
      const current = await this.data.findById(doc._id);
      if (!current) throw new Error(`rental ${doc._id} vanished`);
      return isFinal(current.payment.status) ? current : this.awaitFinalCharge(current);
    }
    this.log.info(
      { reservationId: doc.reservationId, rentalId: doc._id, status: outcome.status, amount: payment.amount },
      'payment charged',
    );
    if (settled.payment.status === 'PAID' && settled.payment.refundRequested) {
      // The saga gave up on this charge and asked for the money back meanwhile.
      return (await this.refund(doc.reservationId)) ?? settled;
    }
    return settled;
  }

  /** A duplicate charge: wait for the first one to finish (or take it over when it is stale). */
  private async awaitFinalCharge(seen: RentalDoc): Promise<RentalDoc> {
    const deadline = Date.now() + this.timeoutMs + 1_500;
    let doc: RentalDoc | null = seen;
    for (;;) {
      if (!doc) throw new Error(`rental ${seen._id} vanished`);
      if (isFinal(doc.payment.status)) return doc;
      const age = Date.now() - new Date(doc.payment.attemptStartedAt).getTime();
      if (age > staleProcessingMs(this.timeoutMs)) {
        const claimed = await this.data.claimStaleCharge(doc._id, doc.payment.attemptStartedAt);
        if (claimed) {
          this.log.warn({ reservationId: doc.reservationId }, 'taking over a stale charge');
          return this.runCharge(claimed);
        }
      }
      if (Date.now() > deadline) {
        throw new DomainError('TRY_LATER', `payment for reservation ${doc.reservationId} is still processing`, {
          retryAfterSeconds: 1,
        });
      }
      await sleep(this.pollMs);
      doc = await this.data.findById(seen._id);
    }
  }

  // ---------------------------------------------------------------- refund

  /**
   * Refunds the reservation's payment and cancels its rental. `null` for an
   * unknown reservation; the payment as it is when there is nothing to refund
   * (declined, failed, already refunded); `INVALID_STATE` once handed over.
   */
  async refund(rawReservationId: string): Promise<RentalDoc | null> {
    const reservationId = requireId('reservationId', rawReservationId);
    const deadline = Date.now() + this.timeoutMs * 2 + 1_500;
    for (;;) {
      const doc = await this.data.findByReservation(reservationId);
      if (!doc) return null;
      const { payment } = doc;
      if (payment.status === 'PROCESSING') {
        const marked = await this.data.requestRefundWhileProcessing(doc._id);
        // The charger refunds as soon as it settles; wait for its answer (or take a stale one over).
        if (marked) await this.awaitFinalCharge(marked);
        continue;
      }
      if (payment.status !== 'PAID') return doc; // DECLINED, FAILED, REFUNDED: nothing (more) to refund
      if (doc.status === 'ACTIVE' || doc.status === 'RETURNED') throw invalidState(refusalMessage(doc.status, 'cancel'));

      let leased: RentalDoc | null;
      if (doc.status === 'AWAITING_PICKUP') {
        leased = await this.data.cancelForRefund(doc._id);
      } else {
        // CANCELLED + PAID: another caller is refunding, or died doing it.
        const since = payment.refundAttemptAt ? new Date(payment.refundAttemptAt).getTime() : 0;
        leased = Date.now() - since > staleProcessingMs(this.timeoutMs) ? await this.data.claimStaleRefund(doc._id, payment.refundAttemptAt) : null;
        if (!leased) {
          if (Date.now() > deadline) {
            throw new DomainError('TRY_LATER', `refund for reservation ${reservationId} is in progress`, { retryAfterSeconds: 1 });
          }
          await sleep(this.pollMs);
        }
      }
      if (!leased) continue; // lost a race (hand-over, another refund): look again
      return this.runRefund(leased);
    }
  }

  /** Calls the provider's refund (this caller holds the refund lease) and records it. */
  private async runRefund(doc: RentalDoc): Promise<RentalDoc> {
    const { payment, reservationId } = doc;
    let answer;
    try {
      answer = await callWithTimeout(this.timeoutMs, (signal) =>
        this.provider.refund({
          reference: reservationId,
          providerRef: payment.providerRef ?? '',
          amount: payment.amount,
          currency: payment.currency,
          signal,
        }),
      );
    } catch (err) {
      // The rental stays CANCELLED + PAID; a retry (saga, consumer) completes the refund once the lease is stale.
      this.log.error({ err, reservationId }, 'refund failed at the provider');
      throw new DomainError('SERVICE_UNAVAILABLE', 'payment provider did not confirm the refund; try again', { retryAfterSeconds: 1 });
    }
    const refunded = await this.data.markRefunded(doc._id, answer.providerRef);
    if (refunded) {
      this.log.info({ reservationId, rentalId: doc._id, amount: payment.amount }, 'payment refunded');
      return refunded;
    }
    const now = await this.data.findById(doc._id);
    if (!now) throw new Error(`rental ${doc._id} vanished`);
    return now;
  }

  // ---------------------------------------------------------------- hand-over and return

  /** Hand-over. `authorize` checks the caller against the rental's store before anything changes. */
  async start(rawReservationId: string, authorize: (rental: RentalDoc) => void, requestId?: string): Promise<RentalDoc> {
    const reservationId = requireId('reservationId', rawReservationId);
    const doc = await this.data.findByReservation(reservationId);
    if (!doc || doc.status === 'PENDING_PAYMENT') throw notFound('rental for reservation', reservationId);
    authorize(doc);
    const refusal = startRefusal({ state: doc.status, readyForPickup: doc.readyForPickup, paymentStatus: doc.payment.status });
    if (refusal) throw invalidState(refusal);
    const event = createEvent('RentalStarted', { rentalId: doc._id, reservationId }, requestId ? { requestId } : {});
    const started = await this.data.start(doc._id, event);
    if (!started) {
      const now = await this.data.findById(doc._id);
      const why = now && startRefusal({ state: now.status, readyForPickup: now.readyForPickup, paymentStatus: now.payment.status });
      throw invalidState(why ?? 'rental changed meanwhile; try again');
    }
    this.relay?.flushSoon(started._id, this.data.model);
    this.log.info({ reservationId, rentalId: started._id }, 'rental started');
    return started;
  }

  async return(rawRentalId: string, authorize: (rental: RentalDoc) => void, requestId?: string): Promise<RentalDoc> {
    const rentalId = requireId('rentalId', rawRentalId);
    const doc = await this.data.findById(rentalId);
    if (!doc || doc.status === 'PENDING_PAYMENT') throw notFound('rental', rentalId);
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
