/**
 * The Apollo Server plugin that applies, once the operation is known: the
 * cost limit (it needs the variables, so it cannot be a cached validation
 * rule) and the per-caller mutation rate limit. Depth, aliases and root
 * fields are validation rules (`shapeRule`), tokens a parse option.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { RouterContext } from '../identity.js';
import type { CostDirectives } from './cost.js';
import { costVerdict, type OperationLimits } from './operation.js';
import { callerKey, tryLaterError, type MutationRateLimiter } from './rate-limit.js';

/**
 * `costDirectives` returns the `@cost`/`@listSize` of the supergraph being
 * served now (the router swaps them on every supergraph load).
 */
export function limitsPlugin(
  limits: OperationLimits,
  costDirectives: () => CostDirectives,
  rateLimiter?: MutationRateLimiter,
): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const { operation, document } = rc;
          if (!operation || !document) return;
          const tooCostly = costVerdict(rc.schema, document, operation, rc.request.variables ?? {}, limits, costDirectives()).error;
          if (tooCostly) throw tooCostly;
          if (operation.operation === 'mutation' && rateLimiter) {
            const decision = await rateLimiter.hit(callerKey(rc.contextValue.identity, rc.contextValue.clientIp));
            if (!decision.allowed) throw tryLaterError(rateLimiter.perMinute, decision.retryAfterSeconds);
          }
        },
      };
    },
  };
}
