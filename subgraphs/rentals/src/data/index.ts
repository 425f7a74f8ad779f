export * from './rental-model.js';
export * from './rentals-data.js';
export * from './rental-lock.js';
export * from './rental-outbox.js';
