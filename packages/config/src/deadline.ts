/**
 * Request deadlines (see `@rental/subgraph-server`'s deadline.ts): the
 * longest a subgraph works on one request, and the rule that recovery never
 * starts on work whose request may still be running.
 */
import type { ConfigRule } from './errors.js';
import { env } from './fields.js';

/** Variables of a subgraph's API process. */
export const subgraphShape = {
  /**
   * The longest a subgraph works on one request, in ms (a caller's shorter
   * `x-rental-timeout-ms` wins): admission queues and long work stop there
   * with a definitive answer.
   */
  REQUEST_DEADLINE_MS: env.int(10_000, 100, 120_000),
};

/** Time for a request's last call to reach its callee after the deadline check (network delay). */
export const DEADLINE_MARGIN_MS = 1_000;

/**
 * SAGA_STALE_MS > REQUEST_DEADLINE_MS + {@link DEADLINE_MARGIN_MS}: the
 * sweeper settles (and compensates) a PENDING reservation only once the
 * request that made it has certainly ended, so no call of that request can
 * still land after the compensation (items relies on it to skip its
 * late-hold check for holds applied well before their caller's deadline).
 */
export const staleAfterDeadline: ConfigRule = {
  variables: ['SAGA_STALE_MS', 'REQUEST_DEADLINE_MS'],
  check(values) {
    const stale = values.SAGA_STALE_MS as number;
    const deadline = values.REQUEST_DEADLINE_MS as number;
    if (stale > deadline + DEADLINE_MARGIN_MS) return undefined;
    return `SAGA_STALE_MS: must be greater than REQUEST_DEADLINE_MS + ${DEADLINE_MARGIN_MS} (${deadline + DEADLINE_MARGIN_MS}), got ${stale}`;
  },
};
