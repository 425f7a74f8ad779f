/**
 * The router as a general federation router: on a supergraph that is not
 * ours (general-fixtures.ts: interfaces, unions, @interfaceObject,
 * @requires, @provides, @override, nested entity calls, lists of lists),
 * every answer through our router, with its default limits on, equals the
 * answer of a plain `@apollo/gateway` in `@apollo/server` on the same
 * subgraphs, and the values that show each feature at work are checked too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouter, type RunningRouter } from './app.js';
import { startGeneralFixture, type GeneralFixture } from './general-fixtures.js';
import { gqlRequest, routerConfig, type GqlResult } from './test-fixtures.js';

let fixture: GeneralFixture;
let router: RunningRouter;
let plain: ApolloServer;
let plainUrl: string;
let dir: string;

beforeAll(async () => {
  fixture = await startGeneralFixture();
  dir = mkdtempSync(join(tmpdir(), 'general-router-'));
  const path = join(dir, 'supergraph.graphql');
  writeFileSync(path, fixture.supergraphSdl);
  // Every limit at its default: only what a deployment must set is given.
  router = await startRouter(routerConfig(path));
  plain = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: fixture.supergraphSdl }) });
  plainUrl = (await startStandaloneServer(plain, { listen: { port: 0, host: '127.0.0.1' } })).url;
});

afterAll(async () => {
  await router?.stop();
  await plain?.stop();
  await fixture?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The same operation through both gateways; their bodies must be equal. */
async function both(query: string, variables?: Record<string, unknown>): Promise<GqlResult['body']> {
  const [ours, theirs] = await Promise.all([
    gqlRequest(router.url, query, variables ? { variables } : {}),
    gqlRequest(plainUrl, query, variables ? { variables } : {}),
  ]);
  expect(ours.body).toEqual(theirs.body);
  expect(ours.status).toBe(theirs.status);
  return ours.body;
}

describe('a supergraph other than ours: the same answers as plain @apollo/gateway', () => {
  it('an entity interface with inline fragments, its implementations in two subgraphs', async () => {
    const body = await both('{ allProducts { __typename id title ... on Book { author { name } } ... on Movie { title } } }');
    expect(body.errors).toBeUndefined();
    expect(body.data?.allProducts).toEqual([
      { __typename: 'Book', id: 'b1', title: 'Dune', author: { name: 'Frank Herbert' } },
      { __typename: 'Book', id: 'b2', title: 'Emma', author: { name: 'Jane Austen' } },
      { __typename: 'Book', id: 'b3', title: 'Children of Dune', author: { name: 'Frank Herbert' } },
      { __typename: 'Movie', id: 'm1', title: 'Dune (1984)' },
    ]);
  });

  it('a union whose members come with fields from other subgraphs', async () => {
    const body = await both('{ search(text: "dune") { __typename ... on Book { id shippingCost } ... on Movie { id } } }');
    expect(body.data?.search).toEqual([
      { __typename: 'Book', id: 'b1', shippingCost: 275 },
      { __typename: 'Book', id: 'b3', shippingCost: 225 },
      { __typename: 'Movie', id: 'm1' },
    ]);
  });

  it('@interfaceObject: reviews adds fields to every Product, a Book and a Movie alike', async () => {
    const body = await both('{ b: product(id: "b1") { id reviews { stars } averageStars } m: product(id: "m1") { id reviews { stars } averageStars } }');
    expect(body.data).toEqual({
      b: { id: 'b1', reviews: [{ stars: 5 }, { stars: 4 }], averageStars: 4.5 },
      m: { id: 'm1', reviews: [{ stars: 3 }], averageStars: 3 },
    });
  });

  it('@requires: shippingCost is computed from catalog\'s weight', async () => {
    const body = await both('{ product(id: "b2") { ... on Book { weight shippingCost } } }');
    expect(body.data).toEqual({ product: { weight: 350, shippingCost: 200 } });
  });

  it('@provides: a review\'s author name comes from reviews, the bio from people', async () => {
    const body = await both('{ latestReviews { id author { name } } first: latestReviews { author { id name bio } } }');
    expect(body.errors).toBeUndefined();
    expect((body.data?.first as Array<{ author: { bio: string } }>)[0]?.author.bio).toBe('b. 1775');
  });

  it('@override: pages come from shipping, not from catalog (which answers -1)', async () => {
    const body = await both('{ allProducts { ... on Book { id pages } } }');
    expect(body.data?.allProducts).toEqual([{ id: 'b1', pages: 412 }, { id: 'b2', pages: 474 }, { id: 'b3', pages: 444 }, {}]);
  });

  it('nested entity calls: book → author → books → reviews → author, across four subgraphs', async () => {
    const body = await both(
      '{ product(id: "b1") { ... on Book { author { name bio books { title pages shippingCost reviews { stars author { name bio } } } } } } }',
    );
    expect(body.errors).toBeUndefined();
    const books = (body.data?.product as { author: { books: Array<{ title: string; reviews: unknown[] }> } }).author.books;
    expect(books.map((b) => b.title)).toEqual(['Dune', 'Children of Dune']);
    expect(books[0]?.reviews).toHaveLength(2);
  });

  it('lists of lists: of scalars, and of entities resolved in another subgraph', async () => {
    const body = await both('{ matrix product(id: "m1") { ... on Movie { castGrid { id name bio } } } }');
    expect(body.data).toEqual({
      matrix: [[1, 2], [3], []],
      product: {
        castGrid: [
          [
            { id: 'a1', name: 'Frank Herbert', bio: 'b. 1920' },
            { id: 'a2', name: 'Jane Austen', bio: 'b. 1775' },
          ],
          [{ id: 'a2', name: 'Jane Austen', bio: 'b. 1775' }],
        ],
      },
    });
  });

  it('three nested unpaginated lists pass the default limits', async () => {
    const body = await both('{ products { id categories { id name subCategories { id name } } } }');
    expect(body.errors).toBeUndefined();
    const all = body.data?.products as Array<{ categories: Array<{ subCategories: unknown[] }> }>;
    expect(all).toHaveLength(3);
    expect(all.flatMap((p) => p.categories.flatMap((c) => c.subCategories))).toHaveLength(18);
  });

  it('variables, aliases and fragments on an interface', async () => {
    const body = await both('query Q($id: ID!) { a: product(id: $id) { ...P } b: product(id: "b3") { ...P } } fragment P on Product { id title reviews { id } }', {
      id: 'm1',
    });
    expect(body.data).toEqual({ a: { id: 'm1', title: 'Dune (1984)', reviews: [{ id: 'r3' }] }, b: { id: 'b3', title: 'Children of Dune', reviews: [] } });
  });

  it('an unknown id is null in both', async () => {
    const body = await both('{ product(id: "nope") { id } author(id: "nope") { name } }');
    expect(body).toEqual({ data: { product: null, author: null } });
  });

  it('an unknown field is refused by both with GRAPHQL_VALIDATION_FAILED and the same message', async () => {
    const body = await both('{ product(id: "b1") { id nope } }');
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('the default limits on a supergraph other than ours', () => {
  const refused = async (query: string, limit: string) => {
    const { status, body } = await gqlRequest(router.url, query);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit });
    return body.errors?.[0];
  };

  it('an ordinary deep query here (6 levels) passes; 14 levels of book → author → books is refused (MAX_DEPTH 12)', async () => {
    const seven = await gqlRequest(router.url, '{ product(id: "b1") { ... on Book { author { books { reviews { author { name } } } } } } }');
    expect(seven.body.errors).toBeUndefined();
    const chain = (n: number): string => (n === 0 ? 'id' : `author { books { ${chain(n - 1)} } }`);
    await refused(`{ product(id: "b1") { ... on Book { ${chain(6)} } } }`, 'MAX_DEPTH');
  });

  it('31 aliases and 21 root fields are refused (MAX_ALIASES 30, MAX_ROOT_FIELDS 20)', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: id`).join(' ');
    await refused(`{ product(id: "b1") { ${aliases} } }`, 'MAX_ALIASES');
    const roots = Array.from({ length: 21 }, (_, i) => `r${i}: matrix`).join(' ');
    await refused(`{ ${roots} }`, 'MAX_ROOT_FIELDS');
  });

  it('four nested unpaginated lists are refused (MAX_COST: 12,111 of 5,000), naming the costliest path', async () => {
    const err = await refused('{ allProducts { ... on Movie { castGrid { books { author { books { title } } } } } } }', 'MAX_COST');
    expect(err?.extensions).toMatchObject({ actual: 12111, costliestPath: 'allProducts.castGrid.books.author.books' });
  });
});
