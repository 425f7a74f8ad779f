/**
 * Resolves one subscription event across subgraphs with the gateway's own
 * executor: the plan `Sequence [primary, rest]` is executed by
 * `executeQueryPlan`, where the primary's data source does not fetch but
 * answers with the event the subgraph pushed, and every other fetch goes to
 * its subgraph through the router's data sources (so the caller's identity is
 * re-signed onto each entity fetch, `SUBGRAPH_URLS` overrides apply and fetch
 * metrics are kept). Result shaping (aliases, `__typename`, fields the client
 * did not ask for, null propagation) is the gateway's, identical to HTTP.
 *
 * Errors in the pushed event travel with it: the gateway attaches them
 * (with `serviceName`) to the result, next to whatever data could be
 * resolved. An event with errors and no data is forwarded as errors only.
 *
 * The gateway's executor is reached through gateway-internals.ts (the one
 * module that touches its undocumented exports).
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import type { GraphQLError, ExecutionResult } from 'graphql';
import type { Logger } from '@rental/observability';
import { executeSubscriptionEvent } from '../gateway-internals.js';
import type { RouterContext } from '../identity.js';
import type { PreparedSubscription } from './planner.js';
import type { UpstreamEvent } from './upstream.js';

/** What {@link executeEvent} needs about the subscriber. */
export interface EventContext {
  context: RouterContext;
  logger: Logger;
}

function errorsOnly(event: UpstreamEvent, serviceName: string): ExecutionResult {
  return {
    data: null,
    errors: (event.errors ?? []).map((e) => ({
      ...e,
      extensions: { ...(e.extensions ?? {}), serviceName },
    })) as unknown as GraphQLError[],
  };
}

/** Turns one event of the primary subscription into the client's result. */
export async function executeEvent(
  prepared: PreparedSubscription,
  event: UpstreamEvent,
  { context, logger }: EventContext,
): Promise<ExecutionResult> {
  const { primary, rest, state } = prepared;
  if (event.data === undefined || event.data === null) return errorsOnly(event, primary.serviceName);

  const pushed: GraphQLDataSource<RouterContext> = {
    process: async () => ({ data: event.data, ...(event.errors ? { errors: event.errors } : {}) }),
  };
  const result = await executeSubscriptionEvent({
    plan: { primary, rest },
    services: { ...state.services, [primary.serviceName]: pushed },
    operationContext: prepared.operationContext,
    supergraph: state,
    variables: prepared.variables,
    operationName: prepared.operationName,
    context,
    logger,
  });
  return {
    data: result.data ?? null,
    ...(result.errors && result.errors.length > 0 ? { errors: result.errors } : {}),
  };
}
