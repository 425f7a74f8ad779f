/**
 * Contract tests of the seam over Apollo Federation's undocumented internals
 * (gateway-internals.ts). Each test names the internal it pins, so an upgrade
 * that changes one fails here, by name, rather than somewhere in the
 * subscription pipeline. The behaviour checks run on a two-subgraph
 * supergraph composed here: `ticks` owns `Subscription.tick`, `labels` adds
 * `Tick.label`, so an event needs a primary and an entity fetch (`rest`).
 */
import { createRequire } from 'node:module';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@rental/observability';
import {
  WRITTEN_AGAINST,
  executeSubscriptionEvent,
  internalsForContractTests as internals,
  loadSupergraph,
  operationContext,
  planSubscription,
  supergraphSubgraphs,
  type SubscriptionPlan,
} from './gateway-internals.js';

// The CommonJS graphql-js, as the gateway and @apollo/subgraph load it (see subscriptions/graphql.ts).
const require = createRequire(import.meta.url);
const graphql = require('graphql') as typeof import('graphql');

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
const TICKS = graphql.parse(`${LINK}
  type Query { lastTick: Tick }
  type Subscription { tick(since: Int): Tick }
  type Tick @key(fields: "id") { id: ID! n: Int! }`);
const LABELS = graphql.parse(`${LINK}
  type Tick @key(fields: "id") { id: ID! label: String }`);

/** The labels subgraph, executed in this process (the ticks subgraph only pushes events). */
const labels = buildSubgraphSchema({
  typeDefs: LABELS,
  resolvers: {
    Tick: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      label: (t: { id: string }) => {
        if (t.id === 'bad') throw new graphql.GraphQLError('no label', { extensions: { code: 'NOT_FOUND' } });
        return `tick ${t.id}`;
      },
    },
  },
});

const composed = composeServices([
  { name: 'ticks', url: 'http://ticks.test/graphql', typeDefs: TICKS },
  { name: 'labels', url: 'http://labels.test/graphql', typeDefs: LABELS },
]);
if (composed.errors) throw new Error(composed.errors.map(String).join('\n'));
const SUPERGRAPH = composed.supergraphSdl;

const SUBSCRIPTION = `
  subscription Ticks($since: Int) { tick(since: $since) { ...T label } }
  fragment T on Tick { id n }`;

/** A data source answering from a subgraph schema in this process. */
function inProcess(schema: GraphQLSchema): GraphQLDataSource<Record<string, unknown>> {
  return {
    process: async ({ request }) =>
      graphql.execute({
        schema,
        document: graphql.parse(request.query ?? ''),
        variableValues: request.variables ?? {},
      }),
  };
}

/** A data source answering every fetch with one pushed event (the primary). */
function pushed(data: Record<string, unknown>): GraphQLDataSource<Record<string, unknown>> {
  return { process: async () => ({ data }) };
}

function planTicks(): { plan: SubscriptionPlan; supergraph: ReturnType<typeof loadSupergraph> } {
  const supergraph = loadSupergraph(SUPERGRAPH);
  const plan = planSubscription(supergraph, graphql.parse(SUBSCRIPTION), 'Ticks');
  if (!plan) throw new Error('QueryPlanner.buildQueryPlan did not answer a Subscription node for a subscription');
  return { plan, supergraph };
}

describe('gateway internals: installed versions', () => {
  it.each(Object.entries(WRITTEN_AGAINST))('%s is still the major.minor the seam was written against', (pkg, expected) => {
    const installed = (require(`${pkg}/package.json`) as { version: string }).version;
    const minor = installed.split('.').slice(0, 2).join('.');
    expect(
      minor,
      `${pkg} is ${installed}, the seam router/src/gateway-internals.ts was written against ${expected}.x: ` +
        're-check every export there against the new version (its .d.ts and source), run these contract tests, then update WRITTEN_AGAINST',
    ).toBe(expected);
  });
});

describe('gateway internals: shapes', () => {
  it('@apollo/gateway buildOperationContext({ schema, operationDocument, operationName }) exists', () => {
    expect(typeof internals['@apollo/gateway'].buildOperationContext, 'buildOperationContext is gone from @apollo/gateway').toBe('function');
    expect(internals['@apollo/gateway'].buildOperationContext.length, 'buildOperationContext no longer takes one options object').toBe(1);
  });

  it('@apollo/gateway executeQueryPlan(plan, services, requestContext, operationContext, supergraphSchema, apiSchema[, telemetry]) exists', () => {
    expect(typeof internals['@apollo/gateway'].executeQueryPlan, 'executeQueryPlan is gone from @apollo/gateway').toBe('function');
    expect(internals['@apollo/gateway'].executeQueryPlan.length, 'executeQueryPlan changed its positional arguments').toBe(7);
  });

  it('@apollo/federation-internals Supergraph.build, subgraphsMetadata, apiSchema, schema.toGraphQLJSSchema exist', () => {
    const { Supergraph } = internals['@apollo/federation-internals'];
    expect(typeof Supergraph.build, 'Supergraph.build is gone').toBe('function');
    for (const method of ['subgraphsMetadata', 'apiSchema'] as const) {
      expect(typeof Supergraph.prototype[method], `Supergraph.prototype.${method} is gone`).toBe('function');
    }
    const built = Supergraph.build(SUPERGRAPH);
    expect(typeof built.schema.toGraphQLJSSchema, 'Supergraph.schema.toGraphQLJSSchema is gone').toBe('function');
  });

  it('@apollo/federation-internals operationFromDocument(schema, document, { operationName }) exists', () => {
    const { operationFromDocument } = internals['@apollo/federation-internals'];
    expect(typeof operationFromDocument, 'operationFromDocument is gone from @apollo/federation-internals').toBe('function');
    expect(operationFromDocument.length, 'operationFromDocument changed its positional arguments').toBe(3);
  });

  it('@apollo/query-planner new QueryPlanner(supergraph[, config]).buildQueryPlan(operation) exists', () => {
    const { QueryPlanner } = internals['@apollo/query-planner'];
    expect(typeof QueryPlanner, 'QueryPlanner is gone from @apollo/query-planner').toBe('function');
    expect(typeof QueryPlanner.prototype.buildQueryPlan, 'QueryPlanner.prototype.buildQueryPlan is gone').toBe('function');
  });
});

describe('gateway internals: behaviour', () => {
  it('Supergraph.subgraphsMetadata: the subgraphs with their URLs, in order', () => {
    expect(supergraphSubgraphs(SUPERGRAPH)).toEqual([
      { name: 'labels', url: 'http://labels.test/graphql' },
      { name: 'ticks', url: 'http://ticks.test/graphql' },
    ]);
    expect(() => supergraphSubgraphs('type Query { a: Int }'), 'Supergraph.build no longer refuses a schema that is not a supergraph').toThrow();
  });

  it('Supergraph.apiSchema: the API schema as graphql-js, without federation types', () => {
    const { apiGraphQLSchema, supergraphSchema } = loadSupergraph(SUPERGRAPH);
    expect(apiGraphQLSchema.getSubscriptionType()?.getFields().tick).toBeDefined();
    expect(apiGraphQLSchema.getType('join__Graph'), 'the API schema now carries join__ types').toBeUndefined();
    expect(supergraphSchema.getType('join__Graph'), 'the supergraph schema lost its join__ types').toBeDefined();
  });

  it('QueryPlanner plans a subscription as Subscription { primary, rest }', () => {
    const { plan } = planTicks();
    expect(plan.primary.kind).toBe('Fetch');
    expect(plan.primary.serviceName).toBe('ticks');
    // What subscriptions/server.ts sends upstream.
    expect(typeof plan.primary.operation, 'FetchNode.operation (the subgraph operation text) is gone').toBe('string');
    expect(plan.primary.operation).toMatch(/^subscription/);
    expect(plan.primary.variableUsages, 'FetchNode.variableUsages changed').toEqual(['since']);
    expect(plan.primary).toHaveProperty('operationName');
    expect(plan.rest, 'the entity fetch to labels is no longer the plan\'s rest').toBeDefined();
    expect(JSON.stringify(plan.rest)).toContain('"serviceName":"labels"');
  });

  it('QueryPlanner: a query is not planned as a Subscription node (planSubscription answers undefined)', () => {
    const supergraph = loadSupergraph(SUPERGRAPH);
    expect(planSubscription(supergraph, graphql.parse('{ lastTick { id } }'), undefined)).toBeUndefined();
  });

  it('buildOperationContext returns { schema, operation, fragments } for the named operation', () => {
    const { apiGraphQLSchema } = loadSupergraph(SUPERGRAPH);
    const document = graphql.parse(`query Other { lastTick { id } } ${SUBSCRIPTION}`);
    const context = operationContext(apiGraphQLSchema, document, 'Ticks');
    expect(context.schema).toBe(apiGraphQLSchema);
    expect(context.operation.operation).toBe('subscription');
    expect(context.operation.name?.value).toBe('Ticks');
    expect(Object.keys(context.fragments)).toEqual(['T']);
  });

  it('executeQueryPlan runs Sequence [primary, rest]: the pushed event, completed by the other subgraph, shaped as asked', async () => {
    const { plan, supergraph } = planTicks();
    const document = graphql.parse(SUBSCRIPTION);
    const result = await executeSubscriptionEvent({
      plan,
      services: { ticks: pushed({ tick: { __typename: 'Tick', id: '7', n: 7 } }), labels: inProcess(labels) },
      operationContext: operationContext(supergraph.apiGraphQLSchema, document, 'Ticks'),
      supergraph,
      variables: { since: 3 },
      operationName: 'Ticks',
      context: {},
      logger: createLogger('gateway-internals-test', 'silent'),
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ tick: { id: '7', n: 7, label: 'tick 7' } });
  });

  it('executeQueryPlan attaches a subgraph\'s errors with serviceName and keeps the data it could resolve', async () => {
    const { plan, supergraph } = planTicks();
    const document = graphql.parse(SUBSCRIPTION);
    const result = await executeSubscriptionEvent({
      plan,
      services: { ticks: pushed({ tick: { __typename: 'Tick', id: 'bad', n: 1 } }), labels: inProcess(labels) },
      operationContext: operationContext(supergraph.apiGraphQLSchema, document, 'Ticks'),
      supergraph,
      variables: {},
      operationName: 'Ticks',
      context: {},
      logger: createLogger('gateway-internals-test', 'silent'),
    });
    expect(result.data).toEqual({ tick: { id: 'bad', n: 1, label: null } });
    expect(result.errors?.[0]?.message).toBe('no label');
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', serviceName: 'labels' });
  });

  it('the context given to executeQueryPlan reaches every data source', async () => {
    const { plan, supergraph } = planTicks();
    const seen: unknown[] = [];
    const spy = (inner: GraphQLDataSource<Record<string, unknown>>): GraphQLDataSource<Record<string, unknown>> => ({
      process: (options) => {
        seen.push(options.context);
        return inner.process(options);
      },
    });
    const context = { requestId: 'r-1' };
    await executeSubscriptionEvent({
      plan,
      services: { ticks: spy(pushed({ tick: { __typename: 'Tick', id: '1', n: 1 } })), labels: spy(inProcess(labels)) },
      operationContext: operationContext(supergraph.apiGraphQLSchema, graphql.parse(SUBSCRIPTION), 'Ticks'),
      supergraph,
      variables: {},
      operationName: 'Ticks',
      context,
      logger: createLogger('gateway-internals-test', 'silent'),
    });
    expect(seen).toEqual([context, context]);
  });
});
