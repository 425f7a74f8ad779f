/**
 * The reservations subgraph's SDL. `Item` is referenced by id only (items
 * resolves it). `myReservations` and the `reservationStatus` subscription
 * come with the customer view (issue 4), built on the read model.
 */
import { gql } from 'graphql-tag';

export const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  "An ISO calendar date, e.g. 2027-03-01 (YYYY-MM-DD, a real day, no time or zone)."
  scalar Date

  enum ReservationStatus {
    "Created; stock and payment being taken."
    PENDING
    "Stock held and payment taken; the store prepares it."
    CONFIRMED
    "The store has prepared it for pick-up."
    READY_FOR_PICKUP
    "Handed over to the customer."
    RENTED
    "Brought back; its stock is available again."
    RETURNED
    "Cancelled before hand-over; stock and payment given back."
    CANCELLED
    "Refused: not enough stock, or a service was unavailable."
    REJECTED
    "The payment was declined; the stock was given back."
    PAYMENT_FAILED
  }

  "One status change of a reservation."
  type StatusChange {
    status: ReservationStatus!
    "ISO 8601 timestamp."
    at: String!
    reason: String
  }

  type Item @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Reservation @key(fields: "id") {
    id: ID!
    customerId: ID!
    status: ReservationStatus!
    quantity: Int!
    startDate: Date!
    "The return day (not charged)."
    endDate: Date!
    "quantity × dailyRate × days, in the smallest currency unit; null until known."
    totalPrice: Int
    item: Item!
    storeId: ID!
    "Every status change, oldest first."
    history: [StatusChange!]!
    "ISO 8601 timestamp."
    createdAt: String!
  }

  input CreateReservationInput {
    itemId: ID!
    "1..1000, and no more than the item's stock."
    quantity: Int!
    "Today (UTC) or later."
    startDate: Date!
    "After startDate, at most 90 days later."
    endDate: Date!
    "A payment provider's token (sandbox: tok_approve, tok_decline, tok_timeout)."
    paymentToken: String!
  }

  type Query {
    "The reservation, for its customer, staff of its store, or an admin; null when there is none."
    reservation(id: ID!): Reservation
  }

  type Mutation {
    "CUSTOMER. Takes the stock and the payment; answers the CONFIRMED reservation."
    createReservation(input: CreateReservationInput!): Reservation!
    "Its customer, staff of its store, or an admin; before hand-over only."
    cancelReservation(id: ID!, reason: String): Reservation!
  }
`;
