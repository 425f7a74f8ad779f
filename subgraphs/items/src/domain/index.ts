export * from './item-input.js';
export * from './holds.js';
export * from './pagination.js';
export * from './filter.js';
export * from './ids.js';
