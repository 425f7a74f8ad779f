export * from './reservation-model.js';
export * from './reservations-data.js';
export * from './view-data.js';
export * from './parties.js';
