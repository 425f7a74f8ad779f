/**
 * Four in-memory subgraphs shaped like ours, for measuring a gateway alone
 * (`npm run bench -- router`): no database, no identity check, answers from
 * constant data, so nearly all the CPU of a request is the gateway's.
 *
 * Shape (as in schema/supergraph.graphql): reservations owns `Reservation`
 * and its `item` reference; items owns `Item` (name, stock, storeId); stores
 * resolves `Item.store` (`@requires(fields: "storeId")`) and
 * `Reservation.storeOrder`; rentals resolves `Reservation.rental`. One
 * reservation's query is 5 subgraph fetches, 3 deep; a list of 20 is the
 * same 5 fetches with 20 representations each.
 *
 * Run as a child process: `BENCH_PORTS='{"reservations":N,…}'`; it prints
 * `ready` once all four listen. Each serves `POST /graphql` from a cache of
 * parsed and validated documents (a subgraph server this small should cost
 * the gateway's neighbours on the 2 cores as little as possible).
 */
import http from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

/** Reservations r1…r20, each for item i<n> of store s<n mod 3>. */
export const RESERVATION_COUNT = 20;

const LINK = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

/** The subgraphs' SDL, by name (the bench composes the supergraph from these). */
export const MEMORY_SUBGRAPH_SDL: Record<string, string> = {
  reservations: `${LINK(['@key'])}
    type Reservation @key(fields: "id") { id: ID! status: String! startDate: String! endDate: String! totalPrice: Int! item: Item! }
    type Item @key(fields: "id", resolvable: false) { id: ID! }
    type Query { reservation(id: ID!): Reservation myReservations(first: Int = 20): [Reservation!]! }`,
  items: `${LINK(['@key'])}
    type Item @key(fields: "id") { id: ID! name: String! stock: Int! storeId: ID! }
    type Query { item(id: ID!): Item }`,
  stores: `${LINK(['@key', '@external', '@requires'])}
    type Store @key(fields: "id") { id: ID! name: String! }
    type Item @key(fields: "id") { id: ID! storeId: ID! @external store: Store! @requires(fields: "storeId") }
    type StoreOrder { id: ID! status: String! }
    type Reservation @key(fields: "id") { id: ID! storeOrder: StoreOrder }
    type Query { store(id: ID!): Store }`,
  rentals: `${LINK(['@key'])}
    type Payment { amount: Int! status: String! }
    type Rental { id: ID! status: String! payment: Payment }
    type Reservation @key(fields: "id") { id: ID! rental: Rental }
    type Query { rentalHealth: Boolean! }`,
};

const num = (id: string) => Number(id.replace(/\D/g, '')) || 0;
const reservation = (id: string) => ({
  id,
  status: 'CONFIRMED',
  startDate: '2027-03-01',
  endDate: '2027-03-04',
  totalPrice: 13500,
  item: { id: `i${num(id)}` },
});

const RESOLVERS: Record<string, Record<string, unknown>> = {
  reservations: {
    Query: {
      reservation: (_: unknown, { id }: { id: string }) => reservation(id),
      myReservations: (_: unknown, { first }: { first: number }) =>
        Array.from({ length: Math.min(first, RESERVATION_COUNT) }, (_, i) => reservation(`r${i + 1}`)),
    },
    Reservation: { __resolveReference: (ref: { id: string }) => reservation(ref.id) },
  },
  items: {
    Query: { item: (_: unknown, { id }: { id: string }) => ({ id }) },
    Item: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `Camera ${num(ref.id)}`, stock: 7, storeId: `s${num(ref.id) % 3}` }),
    },
  },
  stores: {
    Query: { store: (_: unknown, { id }: { id: string }) => ({ id, name: `Store ${id}` }) },
    Store: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `Store ${ref.id}` }) },
    Item: { store: (item: { storeId: string }) => ({ id: item.storeId, name: `Store ${item.storeId}` }) },
    Reservation: {
      __resolveReference: (ref: { id: string }) => ref,
      storeOrder: (r: { id: string }) => ({ id: `o${num(r.id)}`, status: 'READY_FOR_PICKUP' }),
    },
  },
  rentals: {
    Query: { rentalHealth: () => true },
    Reservation: {
      __resolveReference: (ref: { id: string }) => ref,
      rental: (r: { id: string }) => ({ id: `t${num(r.id)}`, status: 'ACTIVE', payment: { amount: 13500, status: 'CAPTURED' } }),
    },
  },
};

/** A minimal GraphQL-over-HTTP server for one subgraph schema. */
function serve(schema: GraphQLSchema, port: number): Promise<http.Server> {
  const documents = new Map<string, DocumentNode>();
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let status = 200;
        let body: unknown;
        try {
          const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, unknown> };
          let document = documents.get(query);
          if (!document) {
            document = parse(query);
            const errors = validate(schema, document);
            if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('; '));
            documents.set(query, document);
          }
          body = await execute({ schema, document, variableValues: variables ?? {} });
        } catch (err) {
          status = 400;
          body = { errors: [{ message: (err as Error).message }] };
        }
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      })();
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

// Entry point: BENCH_PORTS names a port per subgraph.
if (process.env.BENCH_PORTS) {
  const ports = JSON.parse(process.env.BENCH_PORTS) as Record<string, number>;
  await Promise.all(
    Object.entries(MEMORY_SUBGRAPH_SDL).map(([name, sdl]) =>
      serve(buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: RESOLVERS[name] as never }), ports[name] as number),
    ),
  );
  console.log('ready');
}
