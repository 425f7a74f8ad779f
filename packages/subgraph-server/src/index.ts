export { startSubgraph, type SubgraphOptions, type RunningSubgraph, type BaseContext } from './server.js';
export { SERVICE_RESTART, type SubscriptionServer } from './subscriptions.js';
export { toGraphQLError, formatError, isDatabaseUnavailable } from './errors.js';
export { Admission, type AdmissionOptions } from './admission.js';
export { TIMEOUT_HEADER, requestDeadline } from './deadline.js';
export { onShutdownSignals } from '@rental/observability';
export { HealthState, type HealthOptions } from './health.js';
export { startWorkerHealth, startWorkerHealthFromConfig, type WorkerHealthOptions, type WorkerHealthServer, type WorkerHealthSettings } from './worker-health.js';
