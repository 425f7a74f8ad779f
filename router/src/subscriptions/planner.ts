/**
 * Turns an operation sent over the WebSocket into something the router can
 * run, against the supergraph the gateway currently serves.
 *
 * - Parse, validate against the API schema (so `@inaccessible` fields and
 *   unknown fields are refused exactly as over HTTP), coerce the variables.
 * - A subscription is planned by the federation query planner, which plans it
 *   as `Subscription { primary: Fetch(owning subgraph), rest }`: the primary
 *   is opened on the owning subgraph (upstream.ts), the rest runs per event
 *   (executor.ts). Plans are cached per (operation text, operation name).
 * - Queries and mutations are left to Apollo Server (server.ts).
 * - Each subscription is told whether it may share its upstream stream with
 *   the caller's identical ones (`@replayAfter`, replay-directive.ts).
 *
 * The planner is rebuilt whenever the gateway loads a supergraph (start-up
 * and, in development, each change of the file), so subscriptions always
 * plan against what HTTP operations see. Subscriptions already open keep the
 * plan and subgraph connection they started with.
 */
import type { DocumentNode, GraphQLError as GraphQLErrorType, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { GraphQLError, getOperationAST, getVariableValues, parse, specifiedRules, validate } from './graphql.js';
import { CostDirectives } from '../limits/cost.js';
import { costVerdict, shapeRule, type OperationLimits } from '../limits/operation.js';
import type { GraphQLDataSource } from '@apollo/gateway';
import {
  loadSupergraph,
  operationContext,
  planSubscription,
  type ApiSchema,
  type FetchNode,
  type LoadedSupergraph,
  type OperationContext,
  type PlanNode,
} from '../gateway-internals.js';
import type { RouterContext } from '../identity.js';
import { subgraphsOf } from '../supergraph.js';
import { ReplayArguments } from './replay-directive.js';
import type { Sharing } from './shared-upstream.js';

/** What a graphql-ws `subscribe` message carries. */
export interface OperationRequest {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/** One supergraph version: everything needed to plan and execute against it. */
export interface SupergraphState {
  /** The supergraph as graphql-js (what `executeQueryPlan` resolves against). */
  supergraphSchema: GraphQLSchema;
  /** The public schema (federation-internals form, for the executor). */
  apiSchema: ApiSchema;
  /** The public schema (graphql-js form, for validation). */
  apiGraphQLSchema: GraphQLSchema;
  /** Data sources for the fetches of each event's rest, by subgraph name. */
  services: Record<string, GraphQLDataSource<RouterContext>>;
  /** The WebSocket URL of each subgraph (its http URL with a ws scheme; the first when it has several). */
  wsUrls: Record<string, string>;
  /** The WebSocket URL to open a subscription on now (a healthy one of a multi-URL subgraph). */
  wsUrl(serviceName: string): string | undefined;
}

/** A validated subscription with its plan; the variables are checked ones. */
export interface PreparedSubscription {
  kind: 'subscription';
  state: SupergraphState;
  document: DocumentNode;
  operationName: string | undefined;
  /** Display name for logs and metrics. */
  name: string;
  operationContext: OperationContext;
  primary: FetchNode;
  rest: PlanNode | undefined;
  /** The variables as the client sent them (forwarded unchanged). */
  variables: Record<string, unknown>;
  /** Whether identical subscriptions of one caller share the upstream stream, and how a late one catches up (replay-directive.ts). */
  sharing: Sharing;
}

/** A validated query or mutation (run by Apollo Server). */
export interface PreparedOperation {
  kind: 'operation';
  request: OperationRequest;
  document: DocumentNode;
  operationName: string | undefined;
}

export type Prepared = PreparedSubscription | PreparedOperation;

interface CachedPlan {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationContext: OperationContext;
  primary?: FetchNode;
  rest?: PlanNode;
  /** The cost check's verdict, once known to hold for any variables (no slicing argument given as a variable). */
  cost?: { error: GraphQLErrorType | undefined };
}

const PLAN_CACHE_SIZE = 500;

function codedError(message: string, code: string, original?: GraphQLErrorType): GraphQLErrorType {
  return new GraphQLError(message, {
    ...(original ? { nodes: original.nodes, source: original.source, positions: original.positions } : {}),
    extensions: { ...(original?.extensions ?? {}), code },
  });
}

/**
 * Plans subscriptions against the current supergraph. `update()` swaps the
 * supergraph (and clears the plan cache); `prepare()` validates and plans.
 */
export class SubscriptionPlanner {
  private current:
    | {
        state: SupergraphState;
        supergraph: LoadedSupergraph;
        cost: CostDirectives;
        replay: ReplayArguments;
        cache: Map<string, CachedPlan>;
      }
    | undefined;

  /** The router's operation limits, applied to operations over WebSocket as over HTTP (set by the router). */
  limits: OperationLimits | undefined;

  constructor(
    private readonly overrides: Record<string, string>,
    private readonly buildService: (def: { name: string; url?: string }) => GraphQLDataSource<RouterContext>,
    /** Picks one http URL of a subgraph's `url|url` spec (default: the first). */
    private readonly pickUrl: (name: string, spec: string) => string = (_name, spec) => spec.split('|')[0] ?? spec,
  ) {}

  /** Loads a supergraph (called by the gateway on every load or update). */
  update(supergraphSdl: string): void {
    const supergraph = loadSupergraph(supergraphSdl);
    const services: SupergraphState['services'] = {};
    const wsUrls: SupergraphState['wsUrls'] = {};
    const specs: Record<string, string> = {};
    const toWs = (httpUrl: string) => httpUrl.replace(/^http/i, 'ws');
    for (const { name, url } of subgraphsOf(supergraphSdl)) {
      const httpUrl = this.overrides[name] ?? url;
      services[name] = this.buildService({ name, url: httpUrl });
      specs[name] = httpUrl;
      wsUrls[name] = toWs(httpUrl.split('|')[0] ?? httpUrl);
    }
    const pickUrl = this.pickUrl;
    const wsUrl = (serviceName: string) => (specs[serviceName] ? toWs(pickUrl(serviceName, specs[serviceName])) : undefined);
    this.current = {
      state: {
        supergraphSchema: supergraph.supergraphSchema,
        apiSchema: supergraph.apiSchema,
        apiGraphQLSchema: supergraph.apiGraphQLSchema,
        services,
        wsUrls,
        wsUrl,
      },
      supergraph,
      cost: CostDirectives.fromSupergraph(supergraphSdl),
      replay: ReplayArguments.fromSupergraph(supergraphSdl),
      cache: new Map(),
    };
  }

  /** The public schema currently served (undefined before the first load). */
  get apiGraphQLSchema(): GraphQLSchema | undefined {
    return this.current?.state.apiGraphQLSchema;
  }

  /**
   * Validates an operation and, for a subscription, plans it. Returns the
   * errors to send for that operation id instead (never throws for bad input):
   * GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED (the router's error
   * formatting re-codes bad inline input values as BAD_USER_INPUT, as over
   * HTTP), BAD_USER_INPUT for variables.
   */
  prepare(request: OperationRequest): Prepared | GraphQLErrorType[] {
    const current = this.current;
    if (!current) return [codedError('The supergraph is not loaded yet', 'SERVICE_UNAVAILABLE')];
    if (typeof request.query !== 'string' || request.query.trim() === '') {
      return [codedError('The operation has no query', 'BAD_REQUEST')];
    }
    const operationName = request.operationName ?? undefined;
    const key = `${operationName ?? ''}\u0000${request.query}`;
    let cached = current.cache.get(key);
    if (!cached) {
      const built = this.build(current.supergraph, request.query, operationName);
      if (Array.isArray(built)) return built;
      cached = built;
      if (current.cache.size >= PLAN_CACHE_SIZE) current.cache.delete(current.cache.keys().next().value as string);
      current.cache.set(key, cached);
    }
    if (cached.operation.operation !== 'subscription' || !cached.primary) return { kind: 'operation', request, document: cached.document, operationName };

    const variables = request.variables ?? {};
    const coerced = getVariableValues(current.state.apiGraphQLSchema, cached.operation.variableDefinitions ?? [], variables, {
      maxErrors: 50,
    });
    if (coerced.errors) return coerced.errors.map((e) => codedError(e.message, 'BAD_USER_INPUT', e));
    if (this.limits) {
      let verdict = cached.cost;
      if (!verdict) {
        const v = costVerdict(current.state.apiGraphQLSchema, cached.document, cached.operation, coerced.coerced, this.limits, current.cost);
        verdict = { error: v.error };
        // Every screen on a reservation sends the same text: its cost is estimated once.
        if (v.anyVariables) cached.cost = verdict;
      }
      if (verdict.error) return [verdict.error];
    }
    return {
      kind: 'subscription',
      state: current.state,
      document: cached.document,
      operationName,
      name: operationName ?? cached.operation.name?.value ?? 'anonymous',
      operationContext: cached.operationContext,
      primary: cached.primary,
      rest: cached.rest,
      variables,
      sharing: current.replay.sharing(current.state.apiGraphQLSchema, cached.operation, coerced.coerced),
    };
  }

  private build(supergraph: LoadedSupergraph, query: string, operationName: string | undefined): CachedPlan | GraphQLErrorType[] {
    let document: DocumentNode;
    try {
      document = parse(query, this.limits ? { maxTokens: this.limits.maxTokens } : undefined);
    } catch (err) {
      const e = err as GraphQLErrorType;
      return [codedError(e.message, 'GRAPHQL_PARSE_FAILED', e)];
    }
    const invalid = validate(supergraph.apiGraphQLSchema, document, this.limits ? [...specifiedRules, shapeRule(this.limits)] : undefined);
    if (invalid.length > 0) return invalid.map((e) => codedError(e.message, 'GRAPHQL_VALIDATION_FAILED', e));
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      const message = operationName ? `Unknown operation named "${operationName}"` : 'Must provide operation name if query contains multiple operations';
      return [codedError(message, 'GRAPHQL_VALIDATION_FAILED')];
    }
    const context = operationContext(supergraph.apiGraphQLSchema, document, operationName);
    if (operation.operation !== 'subscription') return { document, operation, operationContext: context };
    try {
      const plan = planSubscription(supergraph, document, operationName);
      if (!plan) {
        return [codedError('This subscription cannot be planned on the current supergraph', 'GRAPHQL_VALIDATION_FAILED')];
      }
      return { document, operation, operationContext: context, primary: plan.primary, rest: plan.rest };
    } catch (err) {
      return [codedError((err as Error).message, 'GRAPHQL_VALIDATION_FAILED')];
    }
  }
}
