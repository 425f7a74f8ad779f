/**
 * The seam between the router and the undocumented insides of Apollo
 * Federation: everything the router takes from `@apollo/gateway`,
 * `@apollo/federation-internals` and `@apollo/query-planner` that Apollo does
 * not document as public API is imported here and nowhere else, and every
 * cast around it is written here.
 *
 * Why the router needs them at all: the gateway does not run subscriptions
 * (its `executeQueryPlan` throws "Execution of subscriptions not supported by
 * gateway"). The router plans a subscription with the federation query
 * planner (`Subscription { primary, rest }`), opens the primary on the owning
 * subgraph itself, and resolves each event's `rest` with the gateway's own
 * executor, so results are shaped exactly as over HTTP (subscriptions/).
 *
 * Decision, public versus internal. The documented API of `@apollo/gateway`
 * stays where it is used: `ApolloGateway` and its config types
 * (`SupergraphSdlHook`, app.ts and supergraph.ts), `RemoteGraphQLDataSource`
 * (datasource.ts, upstreams/) and the `GraphQLDataSource` /
 * `GraphQLDataSourceProcessOptions` types of a data source. Those are what
 * Apollo's gateway docs tell users to call, subclass or implement, and they
 * follow semver. Everything else (functions exported from the packages'
 * index files but not documented, the query plan's node types, the
 * federation-internals schema model) is used only through the functions and
 * types below, each saying what it is, why the router needs it and what an
 * upgrade may break.
 *
 * Upgrade risk in general: Apollo keeps these three packages on one version
 * (2.14.4 here) and changes their internals in minor releases. The contract
 * tests (gateway-internals.test.ts) pin every internal's shape and one
 * behaviour each, and fail when the installed major.minor is not
 * {@link WRITTEN_AGAINST}; after an upgrade, read this file against the new
 * versions' `.d.ts` and source before moving that pin.
 */
import type { DocumentNode, GraphQLError, GraphQLSchema } from 'graphql';
import { Supergraph, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { buildOperationContext, executeQueryPlan, type GraphQLDataSource } from '@apollo/gateway';
import type { Logger } from '@rental/observability';

/**
 * The major.minor of each package this seam was written and checked against.
 * The contract tests fail with the package's name when the installed version
 * moved: re-check every export below against it, then update this.
 */
export const WRITTEN_AGAINST = {
  '@apollo/gateway': '2.14',
  '@apollo/federation-internals': '2.14',
  '@apollo/query-planner': '2.14',
} as const;

/**
 * The API schema in federation-internals' own model (not graphql-js).
 * Needed because `operationFromDocument` and `executeQueryPlan` take this
 * form. Opaque to the router: it is only handed back to this module.
 * Risk: low as long as it stays opaque.
 */
export type ApiSchema = Schema;

/**
 * One fetch of a query plan: `serviceName`, `operation` (the subgraph
 * operation's text), `operationName`, `variableUsages` (the variables it
 * uses). The router opens a subscription's primary fetch itself with those
 * fields (subscriptions/server.ts). Risk: a renamed field breaks the upstream
 * subscribe; the contract tests read each one.
 */
export type { FetchNode };

/**
 * A node of a query plan (Sequence, Parallel, Fetch, Flatten, Defer,
 * Condition): a subscription's `rest`, run per event. Opaque to the router
 * apart from being handed back to {@link executeSubscriptionEvent}.
 */
export type { PlanNode };

/**
 * What the gateway's executor needs about the client's operation: the
 * operation definition, its fragments by name and the API schema
 * (graphql-js). Built once per cached plan; the router never reads it.
 * Risk: internal type; its fields are pinned by the contract tests.
 */
export type OperationContext = ReturnType<typeof buildOperationContext>;

/**
 * A subscription's plan split the way the router runs it: `primary` is
 * opened on the owning subgraph, `rest` (entity fetches on other subgraphs,
 * absent when the owning subgraph answers everything) runs per event.
 */
export interface SubscriptionPlan {
  primary: FetchNode;
  rest: PlanNode | undefined;
}

/**
 * A supergraph loaded for the router's own planning and execution (the
 * gateway loads its own copy for HTTP; this one follows it through
 * `onSchemaLoadOrUpdate`). Built by {@link loadSupergraph}.
 */
export interface LoadedSupergraph {
  /** The whole supergraph as graphql-js: `executeQueryPlan` resolves against it. */
  supergraphSchema: GraphQLSchema;
  /** The API schema in federation-internals form (planning, execution). */
  apiSchema: ApiSchema;
  /** The API schema as graphql-js: what clients' operations are validated against. */
  apiGraphQLSchema: GraphQLSchema;
  /** The federation query planner over this supergraph (opaque; see {@link planSubscription}). */
  planner: QueryPlanner;
}

/**
 * The subgraphs a supergraph names, with the URLs written in it
 * (`join__graph(name:, url:)`), in the supergraph's order. Uses
 * `Supergraph.build(sdl).subgraphsMetadata()` from federation-internals,
 * which also validates the supergraph (it throws on an invalid one; the
 * router turns that into a configuration error, supergraph.ts).
 * Risk: `subgraphsMetadata` is internal; renamed or reshaped, start-up fails
 * (the contract tests catch it first).
 */
export function supergraphSubgraphs(supergraphSdl: string): Array<{ name: string; url: string }> {
  return Supergraph.build(supergraphSdl)
    .subgraphsMetadata()
    .map(({ name, url }) => ({ name, url }));
}

/**
 * Builds the schemas and the query planner of a supergraph: what the
 * gateway builds internally on every load, which the router needs for
 * subscriptions since the gateway exposes none of it. Throws on an invalid
 * supergraph. Uses `Supergraph.build`, `.apiSchema()`,
 * `Schema.toGraphQLJSSchema()` and `new QueryPlanner(supergraph)` (default
 * planner config, as the gateway uses unless told otherwise).
 * Risk: each is internal; the constructor's arity and `apiSchema()` are
 * pinned by the contract tests.
 */
export function loadSupergraph(supergraphSdl: string): LoadedSupergraph {
  const supergraph = Supergraph.build(supergraphSdl);
  const apiSchema = supergraph.apiSchema();
  return {
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    apiSchema,
    apiGraphQLSchema: apiSchema.toGraphQLJSSchema(),
    planner: new QueryPlanner(supergraph),
  };
}

/**
 * Plans one subscription operation of `document` (already validated against
 * the API schema). Returns undefined when the planner does not answer with a
 * `Subscription` node (the operation is not one, or the planner changed how
 * it plans them). Throws the planner's error when it cannot plan the
 * operation (the router answers GRAPHQL_VALIDATION_FAILED with its message).
 * Uses `operationFromDocument` (federation-internals) and
 * `QueryPlanner.buildQueryPlan` (query-planner).
 * Risk: the `Subscription { primary, rest }` node shape is the query
 * planner's internal format; a change makes every subscription fail to plan
 * (contract test: "plans a subscription as Subscription { primary, rest }").
 */
export function planSubscription(
  supergraph: LoadedSupergraph,
  document: DocumentNode,
  operationName: string | undefined,
): SubscriptionPlan | undefined {
  const operation = operationFromDocument(supergraph.apiSchema, document, { operationName });
  const plan = supergraph.planner.buildQueryPlan(operation);
  if (plan.node?.kind !== 'Subscription') return undefined;
  return { primary: plan.node.primary, rest: plan.node.rest };
}

/**
 * The gateway's `buildOperationContext`: picks the operation by name and
 * collects the fragments, as the gateway does for every HTTP operation
 * before executing its plan. The router builds it once per cached plan and
 * hands it to {@link executeSubscriptionEvent}. Throws a GraphQLError for an
 * unknown operation name (the router checks the name before).
 * Risk: exported from `@apollo/gateway`'s index but undocumented; its
 * argument object and result fields are pinned by the contract tests.
 */
export function operationContext(
  apiGraphQLSchema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
): OperationContext {
  return buildOperationContext({ schema: apiGraphQLSchema, operationDocument: document, operationName });
}

/** What {@link executeSubscriptionEvent} runs one event with. */
export interface SubscriptionEvent<TContext extends Record<string, unknown>> {
  plan: SubscriptionPlan;
  /**
   * A data source per subgraph. The primary's entry must answer with the
   * event the subgraph pushed instead of fetching; the others fetch as over
   * HTTP.
   */
  services: Record<string, GraphQLDataSource<TContext>>;
  operationContext: OperationContext;
  supergraph: Pick<LoadedSupergraph, 'supergraphSchema' | 'apiSchema'>;
  /** The client's variables (the executor reads them for `@skip`/`@include` and the fetches' variables). */
  variables: Record<string, unknown>;
  operationName: string | undefined;
  /** Handed to every data source's `process` as `context`. */
  context: TContext;
  logger: Logger;
}

/** The executor's answer for one event (its `extensions` are dropped). */
export interface EventResult {
  data?: Record<string, unknown> | null;
  errors?: ReadonlyArray<GraphQLError>;
}

/**
 * Resolves one subscription event with the gateway's `executeQueryPlan`:
 * the plan `Sequence [primary, rest]` (the executor refuses a `Subscription`
 * node, so the router runs the primary as an ordinary fetch whose data
 * source replays the event). Result shaping, error paths and `serviceName`
 * on subgraph errors are the gateway's, identical to HTTP.
 *
 * The request context: `executeQueryPlan` is typed to take Apollo Server's
 * whole request context, but reads only `request.variables`, `context`
 * (passed to data sources), `logger` (falls back to `console`) and `metrics`
 * (it writes `metrics.nonFtv1ErrorPaths` without checking `metrics` exists
 * when a fetch returns errors, so `{}` is required). The router builds just
 * those, hence the one `as unknown as` cast in this file.
 * Risk: high of the lot: both the six-argument signature and the fields read
 * off the request context are internal. Pinned by the contract tests (arity,
 * an event resolved across two subgraphs, a subgraph error carrying
 * `serviceName`).
 */
export async function executeSubscriptionEvent<TContext extends Record<string, unknown>>(event: SubscriptionEvent<TContext>): Promise<EventResult> {
  const { primary, rest } = event.plan;
  const node: PlanNode = rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary;
  const plan: QueryPlan = { kind: 'QueryPlan', node };
  const requestContext = {
    request: { query: undefined, variables: event.variables, operationName: event.operationName },
    context: event.context,
    logger: event.logger,
    metrics: {},
    operationName: event.operationName ?? null,
  } as unknown as Parameters<typeof executeQueryPlan>[2];
  const result = await executeQueryPlan(
    plan,
    event.services,
    requestContext,
    event.operationContext,
    event.supergraph.supergraphSchema,
    event.supergraph.apiSchema,
  );
  return {
    ...(result.data !== undefined ? { data: result.data } : {}),
    ...(result.errors ? { errors: result.errors } : {}),
  };
}

/**
 * The raw internals the functions above call, for gateway-internals.test.ts
 * only: it pins their shape (exists, arity, methods) so an upgrade that
 * changes one fails there by name. The rest of the router must use the
 * functions above.
 */
export const internalsForContractTests = {
  '@apollo/gateway': { buildOperationContext, executeQueryPlan },
  '@apollo/federation-internals': { Supergraph, operationFromDocument },
  '@apollo/query-planner': { QueryPlanner },
} as const;
