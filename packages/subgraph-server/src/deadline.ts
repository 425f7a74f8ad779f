/**
 * Request deadlines across services. A caller that will wait only so long
 * for an answer says so in {@link TIMEOUT_HEADER}: the milliseconds it will
 * still wait when it sends the request. Relative, not a point in time, so
 * the two machines' clocks need not agree (the network's delay makes the
 * callee's deadline a little later than the caller's, never earlier than it
 * would be by clock skew).
 *
 * The callee's deadline is that, capped by its own longest (`maxMs`): work
 * past it is wasted (the caller has given up and will retry or compensate),
 * so admission gates refuse to start it and long work watches it.
 */

/** Header: how long the caller will still wait, in ms, when it sends the request. */
export const TIMEOUT_HEADER = 'x-rental-timeout-ms';

/**
 * The deadline (epoch ms, this machine's clock) of a request arriving at
 * `now`: the caller's wait when it sent a valid one, never more than `maxMs`.
 */
export function requestDeadline(header: string | undefined, maxMs: number, now = Date.now()): number {
  const asked = header === undefined ? NaN : Number(header);
  const wait = Number.isFinite(asked) && asked >= 0 ? Math.min(asked, maxMs) : maxMs;
  return now + wait;
}
