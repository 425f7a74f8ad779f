/** WebSocket plumbing shared by the router and the subgraph server. */
export { BatchingWebSocket, batchWritesPerTurn } from './write-batching.js';
