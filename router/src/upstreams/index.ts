export { UpstreamPool, UpstreamRegistry, splitUrls, type PoolOptions } from './pool.js';
export { poolFetcher, connectionFailure, RETRY_MARK } from './fetcher.js';
export { operationKind, isRetryable } from './operation.js';
export { SubgraphConnections } from './connections.js';
