/** Every GraphQL operation the web client sends, against the public API of docs/ARCHITECTURE.md. */
import { gql, type TypedDocumentNode } from '@apollo/client';
// Result and variable types generated from these documents against the router's API schema (`npm run codegen`).
import type {
  CancelReservationMutation,
  CancelReservationMutationVariables,
  CatalogQuery,
  CatalogQueryVariables,
  CreateReservationMutation,
  CreateReservationMutationVariables,
  MyReservationsQuery,
  MyReservationsQueryVariables,
  OrderRentalQuery,
  OrderRentalQueryVariables,
  PrepareOrderMutation,
  PrepareOrderMutationVariables,
  RegisterItemMutation,
  RegisterItemMutationVariables,
  ReservationFieldsFragment,
  ReservationStatus,
  ReservationStatusSubscription,
  ReservationStatusSubscriptionVariables,
  ReturnRentalMutation,
  ReturnRentalMutationVariables,
  StartRentalMutation,
  StartRentalMutationVariables,
  StoreOrderFieldsFragment,
  StoreOrdersQuery,
  StoreOrdersQueryVariables,
  StoreQuery,
  StoreQueryVariables,
} from './generated/graphql.ts';

export type { ReservationStatus, StoreOrderStatus } from './generated/graphql.ts';

/** A catalog item as the pages show it. */
export type Item = CatalogQuery['items']['edges'][number]['node'];

/**
 * A reservation as every screen shows it. `version` is the customer view's
 * version (+1 per change, 0 while the view has not caught up). The list's
 * value is where the reservation's subscription starts (`sinceVersion`), so
 * no change between the two is missed.
 */
export type Reservation = ReservationFieldsFragment;

export const RESERVATION_FIELDS = gql`
  fragment ReservationFields on Reservation {
    __typename
    id
    status
    version
    quantity
    startDate
    endDate
    totalPrice
    createdAt
    item {
      __typename
      id
      name
      store {
        __typename
        id
        name
      }
    }
    storeOrder {
      __typename
      id
      status
    }
    rental {
      __typename
      id
      status
      payment {
        __typename
        id
        status
        amount
        currency
      }
    }
    history {
      __typename
      status
      at
      reason
    }
  }
`;

export const CATALOG: TypedDocumentNode<CatalogQuery, CatalogQueryVariables> = gql`
  query Catalog($first: Int, $after: String, $filter: ItemFilter) {
    items(first: $first, after: $after, filter: $filter) {
      totalCount
      edges {
        node {
          id
          name
          category
          dailyRate
          stock
          store {
            id
            name
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

export const MY_RESERVATIONS: TypedDocumentNode<MyReservationsQuery, MyReservationsQueryVariables> = gql`
  query MyReservations($first: Int, $after: String, $status: [ReservationStatus!]) {
    myReservations(first: $first, after: $after, status: $status) {
      edges {
        node {
          ...ReservationFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
  ${RESERVATION_FIELDS}
`;

export const CREATE_RESERVATION: TypedDocumentNode<CreateReservationMutation, CreateReservationMutationVariables> = gql`
  mutation CreateReservation($input: CreateReservationInput!) {
    createReservation(input: $input) {
      ...ReservationFields
    }
  }
  ${RESERVATION_FIELDS}
`;

export const CANCEL_RESERVATION: TypedDocumentNode<CancelReservationMutation, CancelReservationMutationVariables> = gql`
  mutation CancelReservation($id: ID!, $reason: String) {
    cancelReservation(id: $id, reason: $reason) {
      ...ReservationFields
    }
  }
  ${RESERVATION_FIELDS}
`;

/**
 * One pushed change: the reservation's `version`, its `sequence` (position in
 * the customer's feed of changes, all their reservations; resumes the
 * all-reservations subscription) and the reservation.
 */
export type ReservationUpdate = ReservationStatusSubscription['reservationStatus'];

/**
 * Sent with graphql-ws directly (live.ts), so every (re-)subscription carries
 * `sinceVersion` (one reservation) or `sinceSequence` (all of mine).
 */
export const RESERVATION_STATUS: TypedDocumentNode<ReservationStatusSubscription, ReservationStatusSubscriptionVariables> = gql`
  subscription ReservationStatus($reservationId: ID, $sinceVersion: Int, $sinceSequence: Int) {
    reservationStatus(reservationId: $reservationId, sinceVersion: $sinceVersion, sinceSequence: $sinceSequence) {
      version
      sequence
      reservation {
        ...ReservationFields
      }
    }
  }
  ${RESERVATION_FIELDS}
`;

/** A store order as the staff queue shows it. */
export type StoreOrder = StoreOrderFieldsFragment;

const STORE_ORDER_FIELDS = gql`
  fragment StoreOrderFields on StoreOrder {
    id
    reservationId
    status
    itemId
    itemName
    quantity
    startDate
    endDate
    customerId
    createdAt
    preparedAt
  }
`;

/** One page of a store's orders, newest first; `pageInfo.endCursor` is the `after` of the next page. */
export const STORE_ORDERS: TypedDocumentNode<StoreOrdersQuery, StoreOrdersQueryVariables> = gql`
  query StoreOrders($storeId: ID!, $status: [StoreOrderStatus!], $first: Int, $after: String) {
    storeOrders(storeId: $storeId, status: $status, first: $first, after: $after) {
      totalCount
      edges {
        node {
          ...StoreOrderFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
  ${STORE_ORDER_FIELDS}
`;

export const STORE: TypedDocumentNode<StoreQuery, StoreQueryVariables> = gql`
  query Store($id: ID!) {
    store(id: $id) {
      id
      name
      city
    }
  }
`;

export const PREPARE_ORDER: TypedDocumentNode<PrepareOrderMutation, PrepareOrderMutationVariables> = gql`
  mutation PrepareOrder($orderId: ID!) {
    prepareOrder(orderId: $orderId) {
      ...StoreOrderFields
    }
  }
  ${STORE_ORDER_FIELDS}
`;

export const ORDER_RENTAL: TypedDocumentNode<OrderRentalQuery, OrderRentalQueryVariables> = gql`
  query OrderRental($id: ID!) {
    reservation(id: $id) {
      id
      status
      rental {
        id
        status
      }
    }
  }
`;

export const START_RENTAL: TypedDocumentNode<StartRentalMutation, StartRentalMutationVariables> = gql`
  mutation StartRental($reservationId: ID!) {
    startRental(reservationId: $reservationId) {
      id
      status
    }
  }
`;

export const RETURN_RENTAL: TypedDocumentNode<ReturnRentalMutation, ReturnRentalMutationVariables> = gql`
  mutation ReturnRental($rentalId: ID!) {
    returnRental(rentalId: $rentalId) {
      id
      status
    }
  }
`;

export const REGISTER_ITEM: TypedDocumentNode<RegisterItemMutation, RegisterItemMutationVariables> = gql`
  mutation RegisterItem($input: RegisterItemInput!) {
    registerItem(input: $input) {
      id
      name
      category
      dailyRate
      stock
      store {
        id
        name
      }
    }
  }
`;

export const TERMINAL: ReadonlySet<ReservationStatus> = new Set(['RETURNED', 'CANCELLED', 'REJECTED', 'PAYMENT_FAILED']);

export const STATUS_LABEL: Record<ReservationStatus, string> = {
  PENDING: 'Pending',
  CONFIRMED: 'Confirmed',
  READY_FOR_PICKUP: 'Ready for pickup',
  RENTED: 'Rented',
  RETURNED: 'Returned',
  CANCELLED: 'Cancelled',
  REJECTED: 'Rejected',
  PAYMENT_FAILED: 'Payment failed',
};
