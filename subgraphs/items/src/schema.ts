/**
 * The items subgraph's SDL: the catalog (public) and the stock holds the
 * reservations subgraph takes and gives back (`@inaccessible`: composed into
 * the supergraph but not part of the router's API; reached directly with a
 * SERVICE identity, see docs/ARCHITECTURE.md).
 */
import { gql } from 'graphql-tag';

export const typeDefs = gql`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@inaccessible"])

  """
  Something that can be rented: a camera, a laptop, a car.
  """
  type Item @key(fields: "id") {
    id: ID!
    name: String!
    description: String
    category: String!
    "Price per rental day, in the smallest currency unit (cents)."
    dailyRate: Int!
    "Units available to reserve now."
    stock: Int!
    storeId: ID!
  }

  input ItemFilter {
    "Exact category."
    category: String
    storeId: ID
    "Case-insensitive substring of the name."
    search: String
    "true: only items with stock; false: only items without."
    inStock: Boolean
  }

  type ItemConnection {
    edges: [ItemEdge!]!
    pageInfo: PageInfo!
    "Items matching the filter, on all pages."
    totalCount: Int!
  }

  type ItemEdge {
    cursor: String!
    node: Item!
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    endCursor: String
  }

  input RegisterItemInput {
    storeId: ID!
    name: String!
    description: String
    category: String!
    dailyRate: Int!
    stock: Int!
  }

  "A reservation's hold on an item's stock (internal)."
  type StockHold @inaccessible {
    reservationId: ID!
    itemId: ID!
    quantity: Int!
    released: Boolean!
    item: Item!
  }

  type Query {
    "The catalog in a stable order, \`first\` (1..100, default 20) at a time after the cursor \`after\`."
    items(filter: ItemFilter, first: Int = 20, after: String): ItemConnection!
    item(id: ID!): Item
  }

  type Mutation {
    "STAFF of the store, or ADMIN."
    registerItem(input: RegisterItemInput!): Item!
    "SERVICE only. Takes stock for a reservation, once per reservation id."
    holdStock(reservationId: ID!, itemId: ID!, quantity: Int!): StockHold! @inaccessible
    "SERVICE only. Gives a reservation's held stock back, once; null when it holds nothing."
    releaseStock(reservationId: ID!, itemId: ID!): StockHold @inaccessible
  }
`;
