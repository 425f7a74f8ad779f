export { startSubgraph, type SubgraphOptions, type RunningSubgraph, type BaseContext } from './server.js';
export { toGraphQLError, formatError } from './errors.js';
export { onShutdownSignals } from './shutdown.js';
export { HealthState } from './health.js';
