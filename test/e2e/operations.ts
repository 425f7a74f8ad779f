/**
 * The staff and customer operations the end-to-end files drive a reservation
 * with, written once (each file adds the ones only it needs). Each carries
 * the types of its answer and variables, generated from it against the
 * router's API schema (`npm run codegen` writes `./generated/graphql.ts`).
 */
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import type {
  CreateReservationMutation,
  CreateReservationMutationVariables,
  CreateStoreMutation,
  CreateStoreMutationVariables,
  PrepareOrderMutation,
  PrepareOrderMutationVariables,
  RegisterItemMutation,
  RegisterItemMutationVariables,
  ReturnRentalMutation,
  ReturnRentalMutationVariables,
  StartRentalMutation,
  StartRentalMutationVariables,
  StoreOrdersQuery,
  StoreOrdersQueryVariables,
} from './generated/graphql.js';

/** A GraphQL document as the string sent, typed with its answer `R` and variables `V`. */
export type TypedQuery<R, V> = string & DocumentTypeDecoration<R, V>;

export const CREATE_STORE: TypedQuery<CreateStoreMutation, CreateStoreMutationVariables> = /* GraphQL */ `mutation CreateStore($input: CreateStoreInput!) { createStore(input: $input) { id } }`;
export const REGISTER: TypedQuery<RegisterItemMutation, RegisterItemMutationVariables> = /* GraphQL */ `mutation RegisterItem($input: RegisterItemInput!) { registerItem(input: $input) { id } }`;
export const CREATE: TypedQuery<CreateReservationMutation, CreateReservationMutationVariables> = /* GraphQL */ `mutation CreateReservation($input: CreateReservationInput!) { createReservation(input: $input) { id status } }`;
/** A store's orders, newest first: one page of 100, more than any end-to-end store holds (see {@link ordersOf}). */
export const ORDERS: TypedQuery<StoreOrdersQuery, StoreOrdersQueryVariables> = /* GraphQL */ `query StoreOrders($storeId: ID!) { storeOrders(storeId: $storeId, first: 100) { edges { node { id reservationId status } } pageInfo { hasNextPage } } }`;
export const PREPARE: TypedQuery<PrepareOrderMutation, PrepareOrderMutationVariables> = /* GraphQL */ `mutation PrepareOrder($id: ID!) { prepareOrder(orderId: $id) { id status } }`;
export const START_RENTAL: TypedQuery<StartRentalMutation, StartRentalMutationVariables> = /* GraphQL */ `mutation StartRental($id: ID!) { startRental(reservationId: $id) { id status } }`;
export const RETURN_RENTAL: TypedQuery<ReturnRentalMutation, ReturnRentalMutationVariables> = /* GraphQL */ `mutation ReturnRental($id: ID!) { returnRental(rentalId: $id) { id status } }`;

/** What a `storeOrders` query answers, with nodes of type `T`. */
export interface OrdersAnswer<T> {
  storeOrders: { edges: Array<{ node: T }>; pageInfo: { hasNextPage: boolean } };
}

/** The orders of one `storeOrders` page; throws when there is another page, so a test never misses an order unawares. */
export function ordersOf<T>(answer: OrdersAnswer<T>): T[] {
  if (answer.storeOrders.pageInfo.hasNextPage) throw new Error('storeOrders: more orders than one page; page with `after`');
  return answer.storeOrders.edges.map((e) => e.node);
}
