export * from './status.js';
export * from './dates.js';
export * from './pricing.js';
export * from './input.js';
export * from './access.js';
export * from './customer-view.js';
export * from './view-changes.js';
export * from './availability.js';
