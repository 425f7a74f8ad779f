export * from './rental-model.js';
export * from './rentals-data.js';
