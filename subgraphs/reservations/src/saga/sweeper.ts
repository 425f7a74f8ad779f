/**
 * Settles sagas that never finished: every `SAGA_SWEEP_MS`, PENDING
 * reservations older than `SAGA_STALE_MS` are compensated (releaseStock,
 * refundPayment: idempotent, harmless when nothing was held or charged) and
 * REJECTED with reason 'SERVICE_UNAVAILABLE: saga did not complete'. One that
 * cannot be compensated yet (a dependency is down) stays PENDING for the next
 * sweep. Runs in the API process; several replicas sweeping together is safe.
 */
import type { Logger } from '@rental/observability';
import type { ReservationsData } from '../data/index.js';
import type { ReservationSaga } from './reservation-saga.js';

export interface SweeperOptions {
  data: ReservationsData;
  saga: ReservationSaga;
  sweepMs: number;
  staleMs: number;
  logger: Logger;
  batchSize?: number;
}

export class SagaSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: SweeperOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweepOnce()
        .catch((err) => this.opts.logger.error({ err }, 'saga sweeper: sweep failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.opts.sweepMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; resolves to how many reservations were settled and how many must wait. */
  async sweepOnce(now: Date = new Date()): Promise<{ settled: number; waiting: number }> {
    const createdBefore = new Date(now.getTime() - this.opts.staleMs);
    const stale = await this.opts.data.findStalePending(createdBefore, this.opts.batchSize ?? 100);
    let settled = 0;
    let waiting = 0;
    for (const doc of stale) {
      try {
        if (await this.opts.saga.settleStale(doc, createdBefore)) settled += 1;
        else waiting += 1;
      } catch (err) {
        waiting += 1;
        this.opts.logger.warn({ err, reservationId: doc._id }, 'saga sweeper: could not settle a reservation');
      }
    }
    if (stale.length > 0) this.opts.logger.info({ settled, waiting }, 'saga sweeper: settled stale reservations');
    return { settled, waiting };
  }
}
