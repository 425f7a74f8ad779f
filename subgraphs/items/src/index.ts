export { typeDefs, resolvers, startItems, type ItemsOverrides, type RunningItems } from './app.js';
export { itemsConfigShape, type ItemsConfig } from './config.js';
