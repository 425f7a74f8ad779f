/**
 * The staff and customer operations the end-to-end files drive a reservation
 * with, written once (each file adds the ones only it needs).
 */
export const CREATE_STORE = 'mutation($input: CreateStoreInput!) { createStore(input: $input) { id } }';
export const REGISTER = 'mutation($input: RegisterItemInput!) { registerItem(input: $input) { id } }';
export const CREATE = 'mutation($input: CreateReservationInput!) { createReservation(input: $input) { id status } }';
export const ORDERS = 'query($storeId: ID!) { storeOrders(storeId: $storeId) { id reservationId status } }';
export const PREPARE = 'mutation($id: ID!) { prepareOrder(orderId: $id) { id status } }';
export const START_RENTAL = 'mutation($id: ID!) { startRental(reservationId: $id) { id status } }';
export const RETURN_RENTAL = 'mutation($id: ID!) { returnRental(rentalId: $id) { id status } }';
