/**
 * How often one socket, and one caller over all their sockets, may send
 * `subscribe`: every subscribe opens an upstream subscription and a replay
 * read of the change log, so a loop of subscribe/complete on one socket
 * would otherwise cost the subgraphs without bound while staying under
 * `MAX_SUBSCRIPTIONS_PER_CONNECTION`.
 *
 * - Two fixed one-second windows (rate-limiter-flexible's in-memory
 *   limiter): per connection (`WS_SUBSCRIBES_PER_SECOND`) and per caller
 *   (`WS_SUBSCRIBES_PER_SECOND_PER_CALLER`: the token's `sub`, or the peer
 *   address of an anonymous caller) across that caller's sockets on this
 *   router.
 * - Over either: that operation gets `TRY_LATER` with `retryAfterSeconds`;
 *   the socket and its other operations carry on, and other callers are
 *   unaffected.
 * - Per router process: behind several routers a caller's allowance is per
 *   replica (the connection limit is exact, the caller limit a bound per
 *   replica).
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** Subscribes per second allowed. */
export interface SubscribeRates {
  perConnection: number;
  perCaller: number;
}

/** The two windows; `admit` says whether one more subscribe may go now. */
export class SubscribeRate {
  private readonly connections: RateLimiterMemory;
  private readonly callers: RateLimiterMemory;

  constructor(rates: SubscribeRates) {
    this.connections = new RateLimiterMemory({ points: rates.perConnection, duration: 1 });
    this.callers = new RateLimiterMemory({ points: rates.perCaller, duration: 1 });
  }

  /** Undefined when admitted; otherwise the whole seconds to wait before the next try. */
  async admit(connectionKey: string, callerKey: string): Promise<number | undefined> {
    try {
      await this.connections.consume(connectionKey);
      await this.callers.consume(callerKey);
      return undefined;
    } catch (err) {
      if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw err;
    }
  }
}
