/**
 * The rentals subgraph's SDL: the rental (hand-over and return) and its
 * payment, the `rental` field it contributes to the `Reservation` entity
 * (owned by the reservations subgraph), and the internal payment mutations the
 * reservation saga calls (`@inaccessible`: composed into the supergraph, not
 * part of the router's API; reached directly with a SERVICE identity).
 */
import { gql } from 'graphql-tag';

export const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@inaccessible"])

  """
  The hand-over of a reserved item: created with its payment when the
  reservation is paid, started when staff hand the item over, ended when it
  comes back.
  """
  type Rental @key(fields: "id") {
    id: ID!
    reservationId: ID!
    status: RentalStatus!
    payment: Payment!
    storeId: ID!
    itemId: ID!
    quantity: Int!
    "True once the store has prepared the order (the item can be handed over)."
    readyForPickup: Boolean!
    "ISO date-time of the hand-over."
    startedAt: String
    "ISO date-time of the return."
    returnedAt: String
  }

  enum RentalStatus {
    "Paid; waiting for the store to prepare it and the customer to pick it up."
    AWAITING_PICKUP
    "Handed over to the customer."
    ACTIVE
    RETURNED
    "Cancelled before hand-over (payment refunded), or never paid."
    CANCELLED
  }

  type Payment {
    id: ID!
    status: PaymentStatus!
    "Amount in the currency's smallest unit (cents)."
    amount: Int!
    "ISO 4217 code."
    currency: String!
    "Why the payment was declined or failed."
    reason: String
  }

  enum PaymentStatus {
    PAID
    DECLINED
    "The provider did not answer (timeout) or failed; no money was taken."
    FAILED
    REFUNDED
  }

  type Reservation @key(fields: "id") {
    id: ID!
    "The rental and payment of this reservation; null before payment, or when the caller may not see it."
    rental: Rental
  }

  type Query {
    "A rental, for its customer, staff of its store and admins; null for anyone else."
    rental(id: ID!): Rental
  }

  type Mutation {
    "Hand-over (STAFF of the store, ADMIN): AWAITING_PICKUP and prepared -> ACTIVE."
    startRental(reservationId: ID!): Rental!
    "Return (STAFF of the store, ADMIN): ACTIVE -> RETURNED."
    returnRental(rentalId: ID!): Rental!

    "Internal (SERVICE): charge once per reservation; a declined card answers status DECLINED."
    chargePayment(input: ChargePaymentInput!): Payment! @inaccessible
    "Internal (SERVICE): refund and cancel before hand-over; idempotent; null for an unknown reservation."
    refundPayment(reservationId: ID!): Payment @inaccessible
  }

  input ChargePaymentInput @inaccessible {
    reservationId: ID!
    customerId: ID!
    storeId: ID!
    itemId: ID!
    quantity: Int!
    "Amount in the currency's smallest unit, 1..100000000."
    amount: Int!
    "Sandbox: tok_approve, tok_decline, tok_timeout."
    paymentToken: String!
  }
`;
