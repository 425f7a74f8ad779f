/**
 * The reservations subgraph's SDL. `Item` is referenced by id only (items
 * resolves it). `myReservations` and the `reservationStatus` subscription
 * read the customer view (the CQRS read model built from events).
 */
import { gql } from 'graphql-tag';

export const typeDefs = gql`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@composeDirective"])
    @link(url: "https://rental.example/specs/replay/v0.1", import: ["@replayAfter"])
    @composeDirective(name: "@replayAfter")

  """
  The subscription's events are an ordered log after the position this
  argument gives: with it set, subscriptions with the same arguments receive
  the same events whenever each one starts, so the router lets one caller's
  identical subscriptions share one stream from this subgraph.
  """
  directive @replayAfter on ARGUMENT_DEFINITION

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
    "The item's name when it was reserved."
    itemName: String
    """
    The customer view's version of this reservation: +1 per change of what the
    customer page shows, from 1; 0 while the view has not caught up yet. Pass the
    last one seen as \`reservationStatus(reservationId, sinceVersion)\` to miss nothing.
    """
    version: Int!
    "From the customer view: the store order's id, once known (the full order is \`storeOrder\`, from stores)."
    storeOrderId: ID
    "From the customer view: PENDING, READY, HANDED_OVER or CANCELLED."
    storeOrderStatus: String
    "From the customer view: the rental's id, once handed over (the full rental is \`rental\`, from rentals)."
    rentalId: ID
    "From the customer view: ACTIVE or RETURNED."
    rentalStatus: String
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    endCursor: String
  }

  type ReservationEdge {
    "Opaque; pass as \`after\` for the next page."
    cursor: String!
    node: Reservation!
  }

  type ReservationConnection {
    edges: [ReservationEdge!]!
    pageInfo: PageInfo!
    "Reservations matching the status filter, on all pages."
    totalCount: Int!
  }

  "One change of a reservation's customer view."
  type ReservationUpdate {
    "The reservation's view version after this change: +1 per change; a client keeps the last one to resume with sinceVersion."
    version: Int!
    """
    The change's position in the customer's feed of changes (all their
    reservations): increasing, not necessarily contiguous. Resume the
    all-reservations subscription with sinceSequence.
    """
    sequence: Int!
    "The reservation as of this change (the customer view's snapshot)."
    reservation: Reservation!
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
    """
    The caller's reservations from the customer view, newest first. Without
    \`status\`, every status but CANCELLED; pass statuses to choose (e.g. all of them).
    \`first\`: 1..100.
    """
    myReservations(status: [ReservationStatus!], first: Int = 20, after: String): ReservationConnection!
  }

  type Mutation {
    "CUSTOMER. Takes the stock and the payment; answers the CONFIRMED reservation."
    createReservation(input: CreateReservationInput!): Reservation!
    "Its customer, staff of its store, or an admin; before hand-over only."
    cancelReservation(id: ID!, reason: String): Reservation!
  }

  type Subscription {
    """
    Changes of the customer view. With \`reservationId\`: that reservation's
    (its customer, staff of its store, admins); an unknown reservation or
    someone else's is an error for this subscription only. Without: every
    change of the calling customer's reservations.
    Starts with the changes after \`sinceVersion\` (with an id) or
    \`sinceSequence\` (without), replayed from the change log in order, then
    live ones; without them, changes from now on. Never the same version twice,
    never out of order for one reservation.
    """
    reservationStatus(reservationId: ID, sinceVersion: Int @replayAfter, sinceSequence: Int @replayAfter): ReservationUpdate!
  }
`;
