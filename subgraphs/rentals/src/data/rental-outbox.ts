/**
 * Publishes rentals' own events (RentalStarted, RentalReturned) from the
 * rental documents' outboxes, always under the rental's lock, so the relay's
 * `$unset outbox.<id>` / `$inc outboxCount -1` never races a state change on
 * FerretDB (which would lose one of the two writes). For that reason the
 * shared {@link OutboxRelay}'s own sweep is not started; this class sweeps:
 * at start-up (recovering what a crashed process left) and every
 * `OUTBOX_SWEEP_MS`, plus a flush right after each write (`flushSoon`).
 */
import type { OutboxRelay } from '@rental/events';
import type { Logger } from '@rental/observability';
import type { RentalLocks } from './rental-lock.js';
import type { RentalModel } from './rental-model.js';
import type { RentalKey } from './rentals-data.js';

const SWEEP_BATCH = 500;

export class RentalOutbox {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly model: RentalModel,
    private readonly locks: RentalLocks,
    private readonly relay: OutboxRelay,
    private readonly log: Logger,
    private readonly sweepMs: number,
  ) {}

  /** Publishes what the rental's outbox holds, under its lock; resolves to the number published. */
  flush(key: RentalKey): Promise<number> {
    return this.locks.run(key.reservationId, () => this.relay.flush(key._id, this.model));
  }

  /** Flushes without waiting; a failure is logged and left to the sweep. */
  flushSoon(key: RentalKey): void {
    this.flush(key).catch((err: unknown) =>
      this.log.warn({ err, rentalId: key._id }, 'outbox flush failed; the sweep will retry'),
    );
  }

  /** One pass over every rental with pending events. */
  async sweep(): Promise<void> {
    const pending = await this.model
      .find({ outboxCount: { $gt: 0 } })
      .sort({ _id: 1 })
      .limit(SWEEP_BATCH)
      .select({ _id: 1, reservationId: 1 })
      .lean<RentalKey[]>();
    const results = await Promise.allSettled(pending.map((d) => this.flush(d)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      this.log.warn({ failed: failed.length, err: failed[0]?.reason }, 'outbox sweep: some rentals not flushed; next round retries');
    }
  }

  /** Sweeps at once, then every `sweepMs`. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((err: unknown) => this.log.error({ err }, 'outbox sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
        });
    };
    tick();
    this.timer = setInterval(tick, this.sweepMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }
}
