/**
 * The Apollo Server plugin that feeds the operation metrics of /metrics:
 * `graphql_requests_total{service,operation,code}` (the first error's code,
 * `OK` without errors), `graphql_request_duration_seconds{service,operation}`
 * and `graphql_errors_total{service,code}` once per error. Operations
 * without a name count as `anonymous`. Requests refused before Apollo Server
 * (authentication, body) are counted by their middlewares (http/).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { RouterContext } from './identity.js';
import { codeOf } from './errors.js';
import { SERVICE, errorCounter, requestCounter, requestDuration } from './metrics.js';

/** Counts and times every operation, and every error by code. */
export function metricsPlugin(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const operation = rc.operationName ?? 'anonymous';
          const errors = rc.response.body.kind === 'single' ? (rc.response.body.singleResult.errors ?? []) : [];
          for (const e of errors) errorCounter.inc({ service: SERVICE, code: codeOf(e, 'UNKNOWN') });
          requestCounter.inc({ service: SERVICE, operation, code: codeOf(errors[0], 'OK') });
          requestDuration.observe({ service: SERVICE, operation }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}
