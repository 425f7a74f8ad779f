/** Every GraphQL operation the web client sends, against the public API of ../shared/DESIGN.md. */
import { gql, type TypedDocumentNode } from '@apollo/client';

export type ReservationStatus =
  | 'PENDING'
  | 'CONFIRMED'
  | 'READY_FOR_PICKUP'
  | 'RENTED'
  | 'RETURNED'
  | 'CANCELLED'
  | 'REJECTED'
  | 'PAYMENT_FAILED';
export type StoreOrderStatus = 'PENDING' | 'READY' | 'HANDED_OVER' | 'CANCELLED';

export interface Item {
  __typename?: 'Item';
  id: string;
  name: string;
  category: string;
  dailyRate: number;
  stock: number;
  store: { __typename?: 'Store'; id: string; name: string } | null;
}

export interface Reservation {
  __typename: 'Reservation';
  id: string;
  status: ReservationStatus;
  /**
   * The customer view's version (+1 per change, 0 while the view has not
   * caught up). The list's value is where the reservation's subscription
   * starts (`sinceVersion`), so no change between the two is missed.
   */
  version: number;
  quantity: number;
  startDate: string;
  endDate: string;
  totalPrice: number | null;
  createdAt: string;
  item: { __typename: 'Item'; id: string; name: string; store: { __typename: 'Store'; id: string; name: string } | null };
  storeOrder: { __typename: 'StoreOrder'; id: string; status: StoreOrderStatus } | null;
  rental: {
    __typename: 'Rental';
    id: string;
    status: string;
    payment: { __typename: 'Payment'; id: string; status: string; amount: number; currency: string };
  } | null;
  history: Array<{ __typename: 'StatusChange'; status: ReservationStatus; at: string; reason: string | null }>;
}

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

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export const CATALOG: TypedDocumentNode<
  { items: { totalCount: number; edges: Array<{ node: Item }>; pageInfo: PageInfo } },
  { first: number; after?: string | null; filter?: { search?: string; inStock?: boolean } | null }
> = gql`
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

export const MY_RESERVATIONS: TypedDocumentNode<
  { myReservations: { edges: Array<{ node: Reservation }>; pageInfo: PageInfo } },
  { first: number; after?: string | null; status?: ReservationStatus[] | null }
> = gql`
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

export interface CreateReservationInput {
  itemId: string;
  quantity: number;
  startDate: string;
  endDate: string;
  paymentToken: string;
}

export const CREATE_RESERVATION: TypedDocumentNode<{ createReservation: Reservation }, { input: CreateReservationInput }> = gql`
  mutation CreateReservation($input: CreateReservationInput!) {
    createReservation(input: $input) {
      ...ReservationFields
    }
  }
  ${RESERVATION_FIELDS}
`;

export const CANCEL_RESERVATION: TypedDocumentNode<{ cancelReservation: Reservation }, { id: string; reason?: string }> = gql`
  mutation CancelReservation($id: ID!, $reason: String) {
    cancelReservation(id: $id, reason: $reason) {
      ...ReservationFields
    }
  }
  ${RESERVATION_FIELDS}
`;

export interface ReservationUpdate {
  version: number;
  /** Position in the customer's feed of changes (all their reservations); resumes the all-reservations subscription. */
  sequence: number;
  reservation: Reservation;
}

/**
 * Sent with graphql-ws directly (live.ts), so every (re-)subscription carries
 * `sinceVersion` (one reservation) or `sinceSequence` (all of mine).
 */
export const RESERVATION_STATUS: TypedDocumentNode<
  { reservationStatus: ReservationUpdate },
  { reservationId?: string; sinceVersion?: number; sinceSequence?: number }
> = gql`
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

export interface StoreOrder {
  id: string;
  reservationId: string;
  status: StoreOrderStatus;
  itemId: string;
  itemName: string;
  quantity: number;
  startDate: string;
  endDate: string;
  customerId: string;
  createdAt: string;
  preparedAt: string | null;
}

const STORE_ORDER_FIELDS = `
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
`;

/** One page of a store's orders, newest first; `pageInfo.endCursor` is the `after` of the next page. */
export const STORE_ORDERS: TypedDocumentNode<
  { storeOrders: { totalCount: number; edges: Array<{ node: StoreOrder }>; pageInfo: PageInfo } },
  { storeId: string; status?: StoreOrderStatus[] | null; first: number; after?: string | null }
> = gql`
  query StoreOrders($storeId: ID!, $status: [StoreOrderStatus!], $first: Int, $after: String) {
    storeOrders(storeId: $storeId, status: $status, first: $first, after: $after) {
      totalCount
      edges {
        node {
          ${STORE_ORDER_FIELDS}
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

export const STORE: TypedDocumentNode<{ store: { id: string; name: string; city: string } | null }, { id: string }> = gql`
  query Store($id: ID!) {
    store(id: $id) {
      id
      name
      city
    }
  }
`;

export const PREPARE_ORDER: TypedDocumentNode<{ prepareOrder: StoreOrder }, { orderId: string }> = gql`
  mutation PrepareOrder($orderId: ID!) {
    prepareOrder(orderId: $orderId) {
      ${STORE_ORDER_FIELDS}
    }
  }
`;

export const ORDER_RENTAL: TypedDocumentNode<
  { reservation: { id: string; status: ReservationStatus; rental: { id: string; status: string } | null } | null },
  { id: string }
> = gql`
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

export const START_RENTAL: TypedDocumentNode<{ startRental: { id: string; status: string } }, { reservationId: string }> = gql`
  mutation StartRental($reservationId: ID!) {
    startRental(reservationId: $reservationId) {
      id
      status
    }
  }
`;

export const RETURN_RENTAL: TypedDocumentNode<{ returnRental: { id: string; status: string } }, { rentalId: string }> = gql`
  mutation ReturnRental($rentalId: ID!) {
    returnRental(rentalId: $rentalId) {
      id
      status
    }
  }
`;

export interface RegisterItemInput {
  storeId: string;
  name: string;
  description?: string;
  category: string;
  dailyRate: number;
  stock: number;
}

export const REGISTER_ITEM: TypedDocumentNode<{ registerItem: Item }, { input: RegisterItemInput }> = gql`
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
