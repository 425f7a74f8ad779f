/**
 * Demand control on supergraphs other than ours, composed for real from
 * subgraph SDL: the estimate follows `@cost`, `@listSize` and the slicing
 * arguments; three nested unpaginated lists pass under the default limits; a
 * refusal names the costliest path.
 */
import { composeServices } from '@apollo/composition';
import type { GraphQLSchema } from 'graphql';
import { parse } from '../subscriptions/graphql.js';
import { describe, expect, it } from 'vitest';
import { parseRouterConfig } from '../config.js';
import { loadSupergraph } from '../gateway-internals.js';
import { CostDirectives, estimateCost } from './cost.js';
import { costVerdict, type OperationLimits } from './operation.js';

/** Composes one subgraph and returns what the router holds: the API schema and the supergraph's cost directives. */
function supergraph(typeDefs: string): { schema: GraphQLSchema; directives: CostDirectives; sdl: string } {
  const composed = composeServices([{ name: 'catalog', url: 'http://catalog', typeDefs: parse(typeDefs) }]);
  if (composed.errors) throw new Error(composed.errors.map(String).join('\n'));
  const sdl = composed.supergraphSdl;
  return { schema: loadSupergraph(sdl).apiGraphQLSchema, directives: CostDirectives.fromSupergraph(sdl), sdl };
}

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])';

const products = supergraph(`${LINK}
  type Query { products: [Product!]! }
  type Product @key(fields: "id") { id: ID! name: String! categories: [Category!]! }
  type Category { id: ID! name: String! subCategories: [SubCategory!]! }
  type SubCategory { id: ID! name: String! }
`);

const shop = supergraph(`${LINK}
  type Query {
    items(first: Int, after: String): ItemConnection!
    search(limit: Int = 5): [Item!]!
    top(count: Int): [Item!]! @listSize(slicingArguments: ["count"], assumedSize: 7)
    featured: [Item!]! @listSize(assumedSize: 3)
    page(size: Int = 25): ItemPage! @listSize(slicingArguments: ["size"], sizedFields: ["entries"])
    report(detailed: Boolean @cost(weight: 50)): Report!
  }
  type ItemConnection { totalCount: Int! edges: [ItemEdge!]! }
  type ItemEdge { cursor: String! node: Item! }
  type ItemPage { total: Int! entries: [Item!]! related: [Item!]! }
  type Item @key(fields: "id") { id: ID! name: String! price: Money! reviews: [Review!]! }
  type Money @cost(weight: 4) { amount: Int! currency: String! }
  type Review { id: ID! score: Int! @cost(weight: 3) }
  type Report { id: ID! }
`);

function cost(sg: typeof products, query: string, variables: Record<string, unknown> = {}, defaultListSize = 10) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition');
  if (operation?.kind !== 'OperationDefinition') throw new Error('no operation');
  return estimateCost(sg.schema, document, operation, variables, { directives: sg.directives, defaultListSize });
}

const defaults = parseRouterConfig({ JWT_SECRET: 'x'.repeat(32), INTERNAL_JWT_SECRET: 'y'.repeat(32) });
const limits: OperationLimits = {
  maxDepth: defaults.MAX_DEPTH,
  maxAliases: defaults.MAX_ALIASES,
  maxRootFields: defaults.MAX_ROOT_FIELDS,
  maxTokens: defaults.MAX_TOKENS,
  maxCost: defaults.MAX_COST,
  defaultListSize: defaults.COST_DEFAULT_LIST_SIZE,
};

function check(sg: typeof products, query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition');
  if (operation?.kind !== 'OperationDefinition') throw new Error('no operation');
  return costVerdict(sg.schema, document, operation, variables, limits, sg.directives).error;
}

const NESTED = '{ products { id categories { id name subCategories { id name } } } }';

describe('cost estimate', () => {
  it('three nested unpaginated lists: 2,321 with the default list size (10), and it passes the default limit', () => {
    // products: 1 + 10 × (id + categories: 1 + 10 × (id + name + subCategories: 1 + 10 × 2))
    expect(cost(products, NESTED).cost).toBe(2321);
    expect(defaults.COST_DEFAULT_LIST_SIZE).toBe(10);
    expect(check(products, NESTED)).toBeUndefined();
    // The old default (20 per list) estimated 17,241, which the limit of 5,000 refused.
    expect(cost(products, NESTED, {}, 20).cost).toBe(17241);
  });

  it('a refusal names the costliest path and its cost in the message and extensions', () => {
    const err = check(products, `{ a: products { id } b: products { categories { subCategories { id name label: name } } } c: products { categories { subCategories { id name } } } d: products { categories { subCategories { id name } } } }`);
    // a: 11; c, d: 2,111 each; b: 1 + 10 × (1 + 10 × (1 + 10 × 3)) = 3,111, of which its subCategories add 10 × 10 × 31.
    expect(err?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_COST', max: 5000, actual: 11 + 2 * 2111 + 3111, costliestPath: 'b.categories.subCategories' });
    expect(err?.message).toBe(
      "Operation's estimated cost is 7344; the limit is 5000; most of it is b.categories.subCategories (3100) (ask for smaller pages or fewer nested lists)",
    );
    // The path goes down while a child carries more than half: reviews (11 of each node's 14), not name.
    expect(cost(shop, '{ items(first: 100) { edges { node { id name reviews { id } } } } }')).toMatchObject({ costliestPath: 'items.edges.node.reviews', costliestPathCost: 100 * 11 });
    expect(cost(shop, '{ items(first: 100) { edges { node { id name } } } }')).toMatchObject({ costliestPath: 'items.edges.node', costliestPathCost: 100 * 3 });
  });

  it('a slicing argument sizes the list: first on a connection (literal or variable), limit with its default', () => {
    // items: 1 + totalCount 1 + edges: 1 + 4 × (cursor + node: 1 + id + name + price(4 + 2))
    expect(cost(shop, '{ items(first: 4) { totalCount edges { cursor node { id name price { amount currency } } } } }').cost).toBe(3 + 4 * 10);
    expect(cost(shop, 'query($n: Int) { items(first: $n) { edges { node { id } } } }', { n: 50 }).cost).toBe(2 + 50 * 2);
    // Not given: the argument's declared default (5); given: that value.
    expect(cost(shop, '{ search { id } }').cost).toBe(1 + 5);
    expect(cost(shop, '{ search(limit: 2) { id } }').cost).toBe(1 + 2);
    // A connection without a page size: the default list size.
    expect(cost(shop, '{ items { edges { node { id } } } }').cost).toBe(2 + 10 * 2);
  });

  it('@listSize: slicingArguments with assumedSize as their fallback, assumedSize alone, sizedFields of a page', () => {
    expect(cost(shop, '{ top(count: 2) { id } }').cost).toBe(1 + 2);
    expect(cost(shop, '{ top { id } }').cost).toBe(1 + 7);
    expect(cost(shop, '{ featured { id } }').cost).toBe(1 + 3);
    // page: 1 + total 1 + entries: 1 + 25 × id; `related` is not a sized field: the default size.
    expect(cost(shop, '{ page { total entries { id } related { id } } }').cost).toBe(2 + (1 + 25) + (1 + 10));
  });

  it('@cost on a field, on the type a field returns, and on an argument that is given', () => {
    expect(cost(shop, '{ featured { price { amount } } }').cost).toBe(1 + 3 * (4 + 1));
    expect(cost(shop, '{ featured { reviews { score } } }').cost).toBe(1 + 3 * (1 + 10 * 3));
    expect(cost(shop, '{ report { id } }').cost).toBe(2);
    expect(cost(shop, '{ report(detailed: true) { id } }').cost).toBe(52);
  });

  it('fragments count each time they are spread, and introspection fields not at all', () => {
    const query = 'query { a: featured { ...F } b: featured { ...F } __typename } fragment F on Item { id __typename ... on Item { name } }';
    expect(cost(shop, query).cost).toBe(2 * (1 + 3 * 2));
  });

  it('renamed cost directives are read from the supergraph link', () => {
    const renamed = products.sdl
      .replace('@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)', '@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION) @link(url: "https://specs.apollo.dev/cost/v0.1", import: [{ name: "@listSize", as: "@size" }])')
      .replace('products: [Product!]!', 'products: [Product!]! @size(assumedSize: 2)');
    const directives = CostDirectives.fromSupergraph(renamed);
    expect(directives.listSize('Query', 'products')).toEqual({ assumedSize: 2 });
  });

  it('stops counting past the cap: a bomb of nested lists costs little to refuse', () => {
    const bomb = `{ ${Array.from({ length: 20 }, (_, i) => `p${i}: products { categories { subCategories { id name } } }`).join(' ')} }`;
    const document = parse(bomb);
    const operation = document.definitions[0];
    if (operation?.kind !== 'OperationDefinition') throw new Error('no operation');
    const capped = estimateCost(products.schema, document, operation, {}, { directives: products.directives, defaultListSize: 10, cap: 3000 });
    expect(capped.cost).toBeGreaterThan(3000);
    expect(capped.cost).toBeLessThan(2 * 2320 + 3000);
  });

  it('says whether a variable went into the estimate, so a verdict may be kept for the operation text', () => {
    expect(cost(shop, 'query($n: Int) { items(first: $n) { edges { node { id } } } }', { n: 3 }).readVariables).toBe(true);
    expect(cost(shop, 'query($n: Int) { items(first: 5) { edges { node { id } } } report { id } }', { n: 3 }).readVariables).toBe(false);
    expect(cost(shop, '{ featured { reviews { score } } }').readVariables).toBe(false);
  });
});
