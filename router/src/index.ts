export { startRouter, type RunningRouter, type RouterOptions } from './app.js';
export { routerShape, parseRouterConfig, loadRouterConfig, type RouterConfig } from './config.js';
export { authenticate, requestIdFrom, type RouterContext } from './identity.js';
export { IdentityDataSource } from './datasource.js';
export { formatError } from './errors.js';
export { RouterHealth } from './health.js';
export { readSupergraph, subgraphsOf, checkOverrides } from './supergraph.js';
export { onShutdownSignals } from './shutdown.js';
