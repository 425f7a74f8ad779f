export { typeDefs, resolvers, startReservations, type ReservationsOverrides, type RunningReservations } from './app.js';
export { startReservationsWorker, type ReservationsWorkerOverrides, type RunningReservationsWorker } from './worker.js';
export { reservationsConfigShape, type ReservationsConfig } from './config.js';
