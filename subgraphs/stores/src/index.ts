export { typeDefs } from './schema.js';
export { resolvers } from './resolvers.js';
export { startStores, type RunningStores, type StoresRunOptions } from './app.js';
export { startStoresWorker, type RunningStoresWorker } from './worker.js';
export { storesConfigShape, type StoresConfig } from './config.js';
