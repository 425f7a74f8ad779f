export { typeDefs, resolvers, startRentals, type StartRentalsOptions, type RunningRentals, type RentalsOverrides } from './app.js';
export { startRentalsWorker, type RentalsWorkerOptions, type RunningRentalsWorker } from './worker.js';
export { rentalsConfigShape, type RentalsConfig } from './config.js';
export { SandboxPaymentProvider, SANDBOX_TOKENS, type PaymentProvider } from './payments/index.js';
