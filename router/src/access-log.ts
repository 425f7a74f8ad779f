/**
 * One JSON log line per GraphQL operation the router answers: operation name
 * and type, outcome code, duration, the caller's `sub` and the request id
 * that goes on to every subgraph fetch (`x-request-id`) and from there onto
 * the events the operation causes (`requestId` in the envelope), so a
 * request can be followed through every process's logs.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '@rental/observability';
import type { RouterContext } from './identity.js';
import { codeOf } from './errors.js';

export function accessLogPlugin(logger: Logger): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const errors = rc.response.body.kind === 'single' ? (rc.response.body.singleResult.errors ?? []) : [];
          logger.info(
            {
              requestId: rc.contextValue.requestId,
              caller: rc.contextValue.identity?.sub,
              operation: rc.operationName ?? 'anonymous',
              type: rc.operation?.operation,
              code: codeOf(errors[0], 'OK'),
              ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
