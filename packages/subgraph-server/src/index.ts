export { startSubgraph, type SubgraphOptions, type RunningSubgraph, type BaseContext } from './server.js';
export { SERVICE_RESTART, type SubscriptionServer } from './subscriptions.js';
export { toGraphQLError, formatError } from './errors.js';
export { onShutdownSignals } from '@rental/observability';
export { HealthState, type HealthOptions } from './health.js';
export { startWorkerHealth, type WorkerHealthOptions, type WorkerHealthServer } from './worker-health.js';
