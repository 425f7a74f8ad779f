export * from './rental-state.js';
export * from './money.js';
export * from './payment-token.js';
export * from './payment.js';
