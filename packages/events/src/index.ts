/**
 * `@rental/events`: the domain event catalog, its routing, the BullMQ bus and
 * consumer, the on-document outbox and consumer idempotency. See the "Events"
 * section of docs/ARCHITECTURE.md for the contract these implement.
 */
export * from './catalog.js';
export * from './routing.js';
export * from './bus.js';
export * from './consumer.js';
export * from './outbox.js';
export * from './idempotency.js';
export * from './metrics.js';
