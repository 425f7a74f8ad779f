/**
 * Test fixtures (not shipped): a supergraph that is not ours, to test the
 * router as a general federation router. Four plain subgraphs
 * (`@apollo/subgraph` in `@apollo/server`'s standalone server, no rental
 * code in them) that together use what federation routers must get right:
 *
 * - an entity interface (`Product`) implemented by `Book` and `Movie`, and
 *   `@interfaceObject` (reviews adds fields to every Product without knowing
 *   its implementations);
 * - a union (`SearchResult`), with entities from two subgraphs;
 * - `@requires` (shipping's `shippingCost` needs catalog's `weight`);
 * - `@provides` (reviews resolves `Review.author.name` locally);
 * - `@override` (shipping took `Book.pages` over from catalog; catalog's
 *   resolver answers differently, so a wrong plan shows);
 * - nested entity calls (book → author → books → reviews → author);
 * - lists of lists (`Movie.castGrid: [[Author!]!]!`, `Query.matrix`);
 * - three nested unpaginated lists (`products → categories → subCategories`).
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { composeServices } from '@apollo/composition';
import type { DocumentNode } from 'graphql';
import { parse } from './subscriptions/graphql.js';

const LINK = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

interface BookRow { id: string; title: string; authorId: string; weight: number; pages: number }
interface MovieRow { id: string; title: string; castGrid: string[][] }

const books: BookRow[] = [
  { id: 'b1', title: 'Dune', authorId: 'a1', weight: 700, pages: 412 },
  { id: 'b2', title: 'Emma', authorId: 'a2', weight: 350, pages: 474 },
  { id: 'b3', title: 'Children of Dune', authorId: 'a1', weight: 500, pages: 444 },
];
const movies: MovieRow[] = [{ id: 'm1', title: 'Dune (1984)', castGrid: [['a1', 'a2'], ['a2']] }];
const authors = new Map([
  ['a1', { id: 'a1', name: 'Frank Herbert', bio: 'b. 1920' }],
  ['a2', { id: 'a2', name: 'Jane Austen', bio: 'b. 1775' }],
]);
const reviews = [
  { id: 'r1', productId: 'b1', stars: 5, authorId: 'a2' },
  { id: 'r2', productId: 'b1', stars: 4, authorId: 'a1' },
  { id: 'r3', productId: 'm1', stars: 3, authorId: 'a2' },
];
const products = Array.from({ length: 3 }, (_, p) => ({
  id: `p${p}`,
  categories: Array.from({ length: 3 }, (_, c) => ({
    id: `p${p}c${c}`,
    name: `category ${c}`,
    subCategories: Array.from({ length: 2 }, (_, s) => ({ id: `p${p}c${c}s${s}`, name: `sub ${s}` })),
  })),
}));

const productById = (id: string) => books.find((b) => b.id === id) ?? movies.find((m) => m.id === id);
const typeOf = (row: { id: string }) => (row.id.startsWith('b') ? 'Book' : 'Movie');

/** One subgraph of the fixture: its SDL and resolvers. */
interface FixtureSubgraph {
  name: string;
  typeDefs: DocumentNode;
  resolvers: Record<string, unknown>;
}

const catalog: FixtureSubgraph = {
  name: 'catalog',
  typeDefs: parse(`${LINK(['@key', '@shareable'])}
    interface Product @key(fields: "id") { id: ID! title: String! }
    type Book implements Product @key(fields: "id") { id: ID! title: String! weight: Int! pages: Int! author: Author! }
    type Movie implements Product @key(fields: "id") { id: ID! title: String! castGrid: [[Author!]!]! }
    type Author @key(fields: "id") { id: ID! books: [Book!]! }
    union SearchResult = Book | Movie
    type Category { id: ID! name: String! subCategories: [SubCategory!]! }
    type SubCategory { id: ID! name: String! }
    type CatalogProduct { id: ID! categories: [Category!]! }
    type Query {
      product(id: ID!): Product
      allProducts: [Product!]!
      search(text: String!): [SearchResult!]!
      matrix: [[Int!]!]!
      products: [CatalogProduct!]!
    }
  `),
  resolvers: {
    Query: {
      product: (_: unknown, { id }: { id: string }) => productById(id) ?? null,
      allProducts: () => [...books, ...movies],
      search: (_: unknown, { text }: { text: string }) =>
        [...books, ...movies].filter((p) => p.title.toLowerCase().includes(text.toLowerCase())),
      matrix: () => [[1, 2], [3], []],
      products: () => products,
    },
    Product: { __resolveType: typeOf, __resolveReference: (ref: { id: string }) => productById(ref.id) },
    SearchResult: { __resolveType: typeOf },
    Book: {
      __resolveReference: (ref: { id: string }) => books.find((b) => b.id === ref.id),
      author: (b: BookRow) => ({ id: b.authorId }),
      // Overridden by shipping: a plan that still asks catalog answers -1.
      pages: () => -1,
    },
    Movie: {
      __resolveReference: (ref: { id: string }) => movies.find((m) => m.id === ref.id),
      castGrid: (m: MovieRow) => m.castGrid.map((row) => row.map((id) => ({ id }))),
    },
    Author: { books: (a: { id: string }) => books.filter((b) => b.authorId === a.id) },
  },
};

const people: FixtureSubgraph = {
  name: 'people',
  typeDefs: parse(`${LINK(['@key', '@shareable'])}
    type Author @key(fields: "id") { id: ID! name: String! @shareable bio: String! }
    type Query { author(id: ID!): Author }
  `),
  resolvers: {
    Query: { author: (_: unknown, { id }: { id: string }) => authors.get(id) ?? null },
    Author: { __resolveReference: (ref: { id: string }) => authors.get(ref.id) },
  },
};

const reviewsSubgraph: FixtureSubgraph = {
  name: 'reviews',
  typeDefs: parse(`${LINK(['@key', '@interfaceObject', '@provides', '@external', '@shareable'])}
    type Product @key(fields: "id") @interfaceObject { id: ID! reviews: [Review!]! averageStars: Float }
    type Review { id: ID! stars: Int! author: Author! @provides(fields: "name") }
    type Author @key(fields: "id") { id: ID! name: String! @external }
    type Query { latestReviews: [Review!]! }
  `),
  resolvers: {
    Query: { latestReviews: () => reviews },
    Product: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      reviews: (p: { id: string }) => reviews.filter((r) => r.productId === p.id),
      averageStars: (p: { id: string }) => {
        const mine = reviews.filter((r) => r.productId === p.id);
        return mine.length ? mine.reduce((s, r) => s + r.stars, 0) / mine.length : null;
      },
    },
    // Provided: the name comes from here, no call to people.
    Review: { author: (r: { authorId: string }) => ({ id: r.authorId, name: authors.get(r.authorId)?.name }) },
  },
};

const shipping: FixtureSubgraph = {
  name: 'shipping',
  typeDefs: parse(`${LINK(['@key', '@requires', '@external', '@override'])}
    type Book @key(fields: "id") {
      id: ID!
      weight: Int! @external
      shippingCost: Int! @requires(fields: "weight")
      pages: Int! @override(from: "catalog")
    }
  `),
  resolvers: {
    Book: {
      __resolveReference: (ref: { id: string; weight?: number }) => ({ ...ref }),
      shippingCost: (b: { weight: number }) => 100 + Math.ceil(b.weight / 100) * 25,
      pages: (b: { id: string }) => books.find((row) => row.id === b.id)?.pages ?? 0,
    },
  },
};

/** The fixture's subgraphs, running, and its supergraph composed at their URLs. */
export interface GeneralFixture {
  supergraphSdl: string;
  stop(): Promise<void>;
}

export async function startGeneralFixture(): Promise<GeneralFixture> {
  const subgraphs = [catalog, people, reviewsSubgraph, shipping];
  const running = await Promise.all(
    subgraphs.map(async (s) => {
      const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: s.typeDefs, resolvers: s.resolvers as never }) });
      const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
      return { ...s, url, server };
    }),
  );
  const composed = composeServices(running.map((s) => ({ name: s.name, url: s.url, typeDefs: s.typeDefs })));
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  return {
    supergraphSdl: composed.supergraphSdl,
    async stop() {
      await Promise.all(running.map((s) => s.server.stop()));
    },
  };
}
