/**
 * The staff and customer operations the end-to-end files drive a reservation
 * with, written once (each file adds the ones only it needs).
 */
export const CREATE_STORE = 'mutation($input: CreateStoreInput!) { createStore(input: $input) { id } }';
export const REGISTER = 'mutation($input: RegisterItemInput!) { registerItem(input: $input) { id } }';
export const CREATE = 'mutation($input: CreateReservationInput!) { createReservation(input: $input) { id status } }';
/** A store's orders, newest first: one page of 100, more than any end-to-end store holds (see {@link ordersOf}). */
export const ORDERS = 'query($storeId: ID!) { storeOrders(storeId: $storeId, first: 100) { edges { node { id reservationId status } } pageInfo { hasNextPage } } }';
export const PREPARE = 'mutation($id: ID!) { prepareOrder(orderId: $id) { id status } }';
export const START_RENTAL = 'mutation($id: ID!) { startRental(reservationId: $id) { id status } }';
export const RETURN_RENTAL = 'mutation($id: ID!) { returnRental(rentalId: $id) { id status } }';

/** What a `storeOrders` query answers, with nodes of type `T`. */
export interface OrdersAnswer<T> {
  storeOrders: { edges: Array<{ node: T }>; pageInfo: { hasNextPage: boolean } };
}

/** The orders of one `storeOrders` page; throws when there is another page, so a test never misses an order unawares. */
export function ordersOf<T>(answer: OrdersAnswer<T>): T[] {
  if (answer.storeOrders.pageInfo.hasNextPage) throw new Error('storeOrders: more orders than one page; page with `after`');
  return answer.storeOrders.edges.map((e) => e.node);
}
