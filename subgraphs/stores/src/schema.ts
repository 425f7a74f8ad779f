/**
 * The stores subgraph's SDL: stores, the store orders staff prepare, and the
 * fields stores adds to other subgraphs' entities (`Item.store`,
 * `Reservation.storeOrder`).
 */
import { gql } from 'graphql-tag';

export const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@shareable"])

  "A physical store that holds items and hands them over."
  type Store @key(fields: "id") {
    id: ID!
    name: String!
    city: String!
    address: String
  }

  enum StoreOrderStatus {
    "Created from a confirmed reservation; staff still have to prepare it."
    PENDING
    "Prepared; waiting for the customer to pick it up."
    READY
    "Handed over to the customer (the rental started)."
    HANDED_OVER
    "The reservation was cancelled."
    CANCELLED
  }

  "One step in a store order's life."
  type StoreOrderChange {
    status: StoreOrderStatus!
    "ISO date-time of the change."
    at: String!
    reason: String
  }

  """
  The work a store does for one reservation: prepare the item, hand it over.
  Visible to the reservation's customer, STAFF of the store and ADMIN.
  """
  type StoreOrder @key(fields: "id") {
    id: ID!
    reservationId: ID!
    storeId: ID!
    store: Store!
    status: StoreOrderStatus!
    itemId: ID!
    itemName: String!
    quantity: Int!
    startDate: String!
    endDate: String!
    customerId: ID!
    createdAt: String!
    preparedAt: String
    history: [StoreOrderChange!]!
  }

  type StoreOrderEdge {
    "Opaque; pass as \`after\` for the next page."
    cursor: String!
    node: StoreOrder!
  }

  type StoreOrderConnection {
    edges: [StoreOrderEdge!]!
    pageInfo: PageInfo!
    "Orders matching the status filter, on all pages."
    totalCount: Int!
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    endCursor: String
  }

  type Item @key(fields: "id") {
    id: ID!
    storeId: ID! @external
    "The store that holds the item; null if the store is unknown."
    store: Store @requires(fields: "storeId")
  }

  type Reservation @key(fields: "id") {
    id: ID!
    "The store's order for this reservation, once the reservation is confirmed; null when the caller may not see it."
    storeOrder: StoreOrder
  }

  input CreateStoreInput {
    "Optional readable id (1 to 40 of A-Z a-z 0-9 _ -); generated when absent."
    id: ID
    name: String!
    city: String!
    address: String
  }

  type Query {
    "Every store, by name."
    stores: [Store!]!
    store(id: ID!): Store
    """
    A store's orders, newest first, \`first\` (1..100, default 20) at a time
    after the cursor \`after\`; \`status\` keeps only those statuses. STAFF of
    that store or ADMIN.
    """
    storeOrders(storeId: ID!, status: [StoreOrderStatus!], first: Int = 20, after: String): StoreOrderConnection!
  }

  type Mutation {
    "ADMIN only."
    createStore(input: CreateStoreInput!): Store!
    "Marks a PENDING order READY. STAFF of the order's store or ADMIN."
    prepareOrder(orderId: ID!): StoreOrder!
  }
`;
