/**
 * Load shedding for expensive writes: at most `limit` run at once in this
 * process; the next caller is refused at once (no queue), so an overload of
 * product registrations answers "try again in a moment" quickly instead of
 * slowing everything down, and reads (which never pass the gate) go on.
 */
import { DomainError } from '@rental/errors';

export class ConcurrencyGate {
  private inFlight = 0;

  constructor(
    readonly limit: number,
    /** The hint given to refused callers. */
    readonly retryAfterSeconds = 1,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('ConcurrencyGate: limit must be a positive integer');
  }

  get active(): number {
    return this.inFlight;
  }

  /** Runs `work` if a slot is free, else throws TRY_LATER (with `retryAfterSeconds`) without waiting. */
  async run<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) {
      throw new DomainError('TRY_LATER', `${what} is busy right now; please try again in ${this.retryAfterSeconds} s`, {
        retryAfterSeconds: this.retryAfterSeconds,
      });
    }
    this.inFlight += 1;
    try {
      return await work();
    } finally {
      this.inFlight -= 1;
    }
  }
}
